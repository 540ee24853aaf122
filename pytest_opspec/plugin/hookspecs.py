"""Hook specifications of pytest-opspec, in the style of pytest's own ``_pytest/hookspec.py``.

pytest-opspec calls these hooks through pytest's plugin manager (``config.hook``). Implement one by
defining a function of the same name (and any subset of its arguments) in a ``conftest.py`` or in a
plugin, as with any pytest hook. The plugin registers these specifications in ``pytest_addhooks``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..conformance.registry import Check
    from ..executor.result import RunResult
    from ..runtime.base import ContainerRuntime, PullPolicy
    from .collect import OpPackageDir

hookspec = pytest.hookspec  # the marker pytest's own hooks use (project name "pytest")


@hookspec(firstresult=True)
def pytest_opspec_make_runtime(
    config: pytest.Config, image_map: dict[str, str], pull_policy: PullPolicy, keep_containers: bool,
) -> ContainerRuntime | None:
    """Make the container runtime the in-process executor runs ops on.

    Called once per pytest process, when the first op starts. The first implementation that returns
    a runtime wins; pytest-opspec's own (``trylast``) returns the local Docker engine. The session
    still owns what the runtime creates: it must label containers and networks as it is told (see
    ``runtime/base.py``) so that the session's sweep removes them.

    :param config: The pytest config.
    :param image_map: Image refs to run as other, local images (``--opspec-image-map``).
    :param pull_policy: When to pull images (``--opspec-pull``).
    :param keep_containers: Leave finished containers in place (``--opspec-keep-containers``).
    :returns: A ``ContainerRuntime``, or None to leave it to the next implementation.
    """


@hookspec
def pytest_opspec_normalize_snapshot(config: pytest.Config, document: dict[str, Any], result: RunResult) -> None:
    """Change the normalized form of an op run before it is compared with, or written as, a snapshot.

    Called for ``op_snapshot`` assertions and ``snapshot: true`` scenarios, after pytest-opspec's own
    normalization (ids, paths, timestamps). Change ``document`` in place, e.g. to mask a value that
    differs between runs; every implementation is called.

    :param config: The pytest config.
    :param document: The normalized run: ``outcome``, ``outputs``, ``events`` (see docs/design-notes.md, "Snapshots").
    :param result: The run itself.
    """


@hookspec
def pytest_opspec_collect_package_items(package: OpPackageDir) -> list[pytest.Item] | None:
    """Make items for an op package directory (``--opspec``).

    The items of every implementation are collected, before what pytest collects in the directory as
    usual. pytest-opspec's own implementations make the ``validate`` item and one item per scenario of
    ``scenarios.yml``/``scenarios.json``. ``package.path`` is the package directory; make items with
    ``pytest.Function.from_parent(package, ...)`` or your own ``pytest.Item`` subclass.

    :param package: The package's collector (a ``pytest.Directory``).
    :returns: The items, or None for none.
    """


@hookspec
def pytest_opspec_conformance_checks(config: pytest.Config) -> list[Check] | None:
    """Add checks to the node conformance suite run by ``pytest --opspec-conformance``.

    Make each with ``pytest_opspec.conformance.registry.make_check`` (the same fields as the suite's
    ``@check`` decorator). Their ids must not clash with the suite's own or each other's.

    :param config: The pytest config.
    :returns: The extra checks, or None for none.
    """
