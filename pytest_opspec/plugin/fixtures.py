"""The plugin's fixtures (``op_runner``, ``op_snapshot``, ``opspec_backend``, ``node_client``).

As pytest's own tmpdir fixtures do, each fixture is one line over a plain class or over the session's
``OpspecResources`` (session.py); ``OpRunnerFixture`` is what a test gets as ``op_runner``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import pytest

from ..errors import OpspecError
from .session import resources

# What running ops needs loads in the fixtures' bodies: a pytest run that uses none of them never imports it.
if TYPE_CHECKING:
    from ..backends.base import OpBackend, StartedOp
    from ..events import Event
    from ..executor.result import RunResult
    from ..limits import Limits
    from ..node.client import NodeClient
    from ..pkgs.resolve import PackageResolver
    from .throwaway import ArgCopies


class OpRunnerFixture:
    """Runs ops for one test on the session's backend; what the ``op_runner`` fixture returns.

    Relative package refs and relative dir/file args are taken relative to ``cwd`` (the test file's
    directory). Args may be Python values, typed by the op's declared inputs, or Values. Dir and file args
    are throwaway copies unless ``copy_args=False``. Whatever was started and is still running when the
    test ends is killed, and every op's files (and the copies) are removed.
    """

    def __init__(self, backend: OpBackend, *, timeout: float | None, cwd: Path, copies: ArgCopies,
                 shown_from: Path | None = None, stable_paths: Mapping[str, str] | None = None,
                 packages: PackageResolver | None = None, config: pytest.Config | None = None) -> None:
        from ..pkgs.resolve import PackageResolver

        self.backend = backend
        self.packages = packages or PackageResolver()
        self.config = config  # for -s -v: show container output live
        self.timeout = timeout
        self.cwd = cwd
        self.shown_from = shown_from or cwd  # reports show paths relative to it
        self._copies = copies
        self._stable_paths = dict(stable_paths or {})
        self._started: list[StartedOp] = []

    def start(self, pkg: str | os.PathLike[str], args: Mapping[str, Any] | None = None, *,
              copy_args: bool = True, limits: Limits | Mapping[str, Any] | None = None) -> StartedOp:
        """Start ``pkg`` and return at once: ``.id``, ``.events``, ``.wait(timeout)``, ``.kill()``.

        Dir and file args are copied first, so the op cannot change them (``copy_args=False``: it works on
        the originals). ``limits`` (``{"memory": "64m", "cpus": 0.5, "pids": 64, "network": "none"}`` or a
        Limits) apply to every container of the op, over the session's ``--opspec-memory``...
        """
        from ..limits import as_limits
        from ..model.args import args_for
        from .session import live_printer

        package = self.packages.resolve(os.fspath(pkg), [self.cwd])
        values = args_for(package.manifest, args or {}, self.cwd)
        stable_paths = dict(self._stable_paths)
        if copy_args:
            values, folder = self._copies.copy(values)
            if folder is not None:
                stable_paths[str(folder)] = "<args>"
        live = live_printer(self.config, package.manifest, values) if self.config is not None else None
        started = StableOp(self.backend.start(os.fspath(pkg), values, cwd=self.cwd, limits=as_limits(limits),
                                              on_event=live), stable_paths)
        self._started.append(started)
        return started

    def run(
        self, pkg: str | os.PathLike[str], args: Mapping[str, Any] | None = None, *,
        timeout: float | None = None, check: bool = False, copy_args: bool = True,
        limits: Limits | Mapping[str, Any] | None = None,
    ) -> RunResult:
        """Run ``pkg`` to its end (killed after ``timeout``, default ``--opspec-timeout``) and return its result.

        With ``check=True`` a run that does not succeed fails the test with a full report.
        """
        result = self.start(pkg, args, copy_args=copy_args, limits=limits).finish(
            timeout if timeout is not None else self.timeout)
        if check and not result.succeeded:
            from ..reporting.failures import run_report

            pytest.fail(run_report(result, relative_to=self.shown_from), pytrace=False)
        return result

    def kill(self, op: StartedOp) -> RunResult:
        """Kill a started op and return its result (outcome KILLED unless it had already ended)."""
        return op.kill()

    def close(self) -> None:
        started, self._started = self._started, []
        try:
            for op in started:
                try:
                    op.kill()  # a no-op for an op that ended
                finally:
                    self.backend.release(op.id)
        finally:
            self._copies.close()


class StableOp:
    """A started op whose results know the paths that snapshots must not show (see RunResult.stable_paths)."""

    def __init__(self, op: StartedOp, stable_paths: Mapping[str, str]) -> None:
        self._op = op
        self.id = op.id
        self._stable_paths = stable_paths

    @property
    def events(self) -> list[Event]:
        return self._op.events

    @property
    def done(self) -> bool:
        return self._op.done

    def wait(self, timeout: float | None = None) -> RunResult:
        """Its result once it ends; past ``timeout`` raises OpWaitTimeout and leaves it running."""
        return self._stable(self._op.wait(timeout))

    def finish(self, timeout: float | None = None) -> RunResult:
        """Its result once it ends; past ``timeout`` kills it (the result has ``timed_out`` set)."""
        return self._stable(self._op.finish(timeout))

    def kill(self) -> RunResult:
        return self._stable(self._op.kill())

    def _stable(self, result: RunResult) -> RunResult:
        result.stable_paths = {**result.stable_paths, **self._stable_paths}
        return result


@pytest.fixture(scope="session")
def opspec_backend(pytestconfig: pytest.Config) -> OpBackend:
    """The session's op backend (the in-process executor, or the node of --opspec-node-url)."""
    return resources(pytestconfig).backend()


@pytest.fixture
def op_runner(request: pytest.FixtureRequest) -> Iterator[OpRunnerFixture]:
    """Run ops from a test: ``op_runner.run(pkg, args)``, ``op_runner.start(pkg, args)``, ``op_runner.kill(op)``."""
    from .session import require_engine

    config = request.config
    session = resources(config)
    runner = OpRunnerFixture(require_engine(config), timeout=session.settings.timeout, cwd=request.path.parent,
                             copies=session.arg_copies(), shown_from=config.invocation_params.dir,
                             stable_paths=temp_dirs_of(request), packages=session.packages, config=config)
    yield runner
    runner.close()


def temp_dirs_of(request: pytest.FixtureRequest) -> dict[str, str]:
    """pytest's temp dirs of this test as snapshots show them: they change from session to session."""
    paths = {str(request.getfixturevalue("tmp_path_factory").getbasetemp()): "<basetemp>"}
    if "tmp_path" in request.fixturenames:
        paths[str(request.getfixturevalue("tmp_path"))] = "<tmp_path>"
    return paths


@pytest.fixture(scope="session")
def node_client(pytestconfig: pytest.Config) -> Iterator[NodeClient]:
    """A NodeClient for the node under test: --opspec-node-url, or the bundled node, started once per session
    (shared by xdist workers) on a free loopback port."""
    from ..node.client import NodeClient

    try:
        url = resources(pytestconfig).node_url()
    except OpspecError as error:
        pytest.fail(str(error), pytrace=False)
    with NodeClient(url, tls=resources(pytestconfig).node_tls()) as client:
        yield client


@pytest.fixture
def op_snapshot(snapshot: Any, request: pytest.FixtureRequest) -> Any:
    """syrupy's ``snapshot`` with stable op runs: ``assert op_runner.run(pkg) == op_snapshot``."""
    from .snapshot import OpSnapshotExtension

    return snapshot.use_extension(OpSnapshotExtension.for_config(request.config))
