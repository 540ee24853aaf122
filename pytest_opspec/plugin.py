"""pytest hooks of pytest-opspec; the logic lives in collect.py, settings.py and conformance/pytest_plugin.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import settings
from .collect import OpspecSession, package_collector

_SESSION = pytest.StashKey[OpspecSession]()


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    roots, source = settings.resolve(config, settings.OPSPEC_PATHS)
    if settings.conformance_requested(config):
        from conformance.pytest_plugin import ConformancePlugin, build_config

        if config.getoption("numprocesses", None):
            raise pytest.UsageError("--opspec-conformance: the checks share one node and one session; run them "
                                    "without -n (pytest-xdist)")

        config.pluginmanager.register(ConformancePlugin(build_config(settings.conformance_raw(config))),
                                      "opspec-conformance")
        # Asked for on its own, the suite is the whole run (not the default testpaths besides).
        if not roots and config.args_source is not pytest.Config.ArgsSource.ARGS:
            config.args = []
    if not roots:
        return
    try:
        session = OpspecSession(roots)
    except OSError as error:
        raise pytest.UsageError(f"{settings.OPSPEC_PATHS.flag}: {error}") from None
    config.stash[_SESSION] = session
    # pytest only walks its own args: add the op package paths. Given on the command line
    # without test paths, they replace the default (testpaths or the current directory).
    if source is settings.Source.CLI and config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args = [str(root) for root in roots]
    else:
        known = {Path(arg).resolve() for arg in config.args}
        config.args = [*config.args, *(str(root) for root in roots if root.resolve() not in known)]


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
        return package_collector(path, parent, session)
    return None
