"""pytest hooks of pytest-opspec (the ``pytest11`` entry point); the logic lives in the other modules of
plugin/ (options, collect, items, session, fixtures) and in conformance/pytest_plugin.py."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import pytest

from ..options import PATHS, Source
from . import options as settings
from . import termination
from .selection import PackageArgs, package_args
from .session import (ENGINE_FIXTURES, ENGINE_MARKER, RESOURCES, WORKER_DIR_KEY, WORKER_ENGINE_KEY, WORKER_PID_KEY,
                      WORKER_SESSION_KEY, OpspecResources, require_engine)

# Only hook registration and option definitions load with the plugin: a pytest run that uses no --opspec*
# option (nor its ini/env settings) and no fixture of it never imports the model, executor, backends or node
# (tests/integration/plugin/test_plugin_imports.py).
if TYPE_CHECKING:
    from ..runtime.base import ContainerRuntime, PullPolicy
    from .collect import OpPackageDir, OpspecSession

# The fixtures (op_runner, op_snapshot, node_client, opspec_backend).
pytest_plugins = ["pytest_opspec.plugin.fixtures"]

_SESSION: pytest.StashKey[OpspecSession] = pytest.StashKey()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{ENGINE_MARKER}: needs a container engine (call scenarios, tests using "
                            "op_runner, node_client or opspec_backend); -m 'not opspec_engine' leaves them out")
    loaded = settings.load(config)
    workerinput = getattr(config, "workerinput", None)  # set by pytest-xdist in its workers
    config.stash[RESOURCES] = OpspecResources(
        loaded, workerinput=workerinput,
        runtime_factory=functools.partial(config.hook.pytest_opspec_make_runtime, config=config))
    if workerinput is None:
        termination.install(config)
    roots = loaded.paths
    if settings.conformance_requested(config):
        from ..conformance.pytest_plugin import make_plugin

        if config.getoption("numprocesses", None):
            raise pytest.UsageError("--opspec-conformance: the checks share one node and one session; run them "
                                    "without -n (pytest-xdist)")
        extra = [check for checks in config.hook.pytest_opspec_conformance_checks(config=config) for check in checks]
        config.pluginmanager.register(make_plugin(settings.conformance_values(config), extra), "opspec-conformance")
        # Asked for on its own, the suite is the whole run (not the default testpaths besides).
        if not roots and config.args_source is not pytest.Config.ArgsSource.ARGS:
            config.args = []
    named_by_user = config.args_source is pytest.Config.ArgsSource.ARGS
    named = PackageArgs()
    if named_by_user:  # `pytest examples/hello::call[x]`: a package (or an item in one) named on the command line
        config.args, named = package_args(config.args, config.invocation_params.dir)
    if not roots and not named.packages:
        return
    from .collect import OpspecSession

    try:
        session = OpspecSession([*roots, *named.packages], config.stash[RESOURCES].packages, named)
    except OSError as error:
        raise pytest.UsageError(f"{PATHS.pytest_flag}: {error}") from None
    config.stash[_SESSION] = session
    # pytest only walks its own args: add the op package paths. Given on the command line without test
    # paths, they replace the default (testpaths or the current directory); paths from the env or ini are
    # walked only when the command line names nothing (`pytest test_ops.py` runs just that file).
    if loaded.paths_source is Source.CLI and not named_by_user:
        config.args = [str(root) for root in roots]
    elif loaded.paths_source is Source.CLI or not named_by_user:
        known = {Path(arg).resolve() for arg in config.args}
        config.args = [*config.args, *(str(root) for root in roots if root.resolve() not in known)]


def pytest_report_header(config: pytest.Config) -> str | None:
    if _SESSION not in config.stash:
        return None
    resources = config.stash[RESOURCES]
    count = len(config.stash[_SESSION].packages)
    return (f"opspec: {count} op package{'' if count == 1 else 's'}; ops run on the "
            f"{resources.backend().description}; containers labelled {resources.label}")


@pytest.hookimpl(tryfirst=True)
def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    session = config.stash.get(_SESSION, None)
    if session is not None and session.leads_to_package(collection_path):
        return False
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    session = parent.config.stash.get(_SESSION, None)
    if session is not None and session.is_package(path):
        from .collect import package_collector

        return package_collector(path, parent, session)
    return None


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if ENGINE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(ENGINE_MARKER)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker(ENGINE_MARKER) is not None:
        require_engine(item.config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: every worker labels its containers with the controller's session id."""
    resources = node.config.stash[RESOURCES]
    node.workerinput[WORKER_SESSION_KEY] = resources.session_id
    node.workerinput[WORKER_DIR_KEY] = str(resources.session_dir)
    node.workerinput[WORKER_PID_KEY] = resources.owner_pid


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: remember whether a worker used the engine (or died before it could say)."""
    output = getattr(node, "workeroutput", None) or {}
    if error is not None or output.get(WORKER_ENGINE_KEY, False):
        node.config.stash[RESOURCES].workers_used_engine = True


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # Also after Ctrl-C: pytest still finishes the session. Last, so session fixtures were torn down; an
    # xdist worker's output is sent after every sessionfinish implementation (xdist wraps the hook).
    resources = session.config.stash.get(RESOURCES, None)
    if resources is None:
        return
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[WORKER_ENGINE_KEY] = resources.engine_used
    resources.close()


def pytest_unconfigure(config: pytest.Config) -> None:
    resources = config.stash.get(RESOURCES, None)
    if resources is not None:
        resources.close()  # a no-op after pytest_sessionfinish
    termination.uninstall(config)


# -- the plugin's own implementations of its hooks (hookspecs.py) -------------------------------------

@pytest.hookimpl(trylast=True)
def pytest_opspec_make_runtime(image_map: Mapping[str, str], pull_policy: PullPolicy,
                               keep_containers: bool) -> ContainerRuntime:
    from ..backends.runtime import make_runtime

    return make_runtime(image_map=image_map, pull_policy=pull_policy, keep_containers=keep_containers)


@pytest.hookimpl(tryfirst=True)  # the package's own items come first
def pytest_opspec_collect_package_items(package: OpPackageDir) -> list[pytest.Item]:
    from .collect import validation_items
    from .items import scenario_items

    return [*validation_items(package), *scenario_items(package)]
