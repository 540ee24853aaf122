"""The session's op resources and the fixtures built on them (``op_runner``, ``op_snapshot``, ``opspec_backend``).

As pytest's own tmpdir fixtures do, each fixture is one line over a plain class: ``OpspecResources``
(one per pytest process, kept in ``config.stash``) owns the session id and the op backend;
``OpRunnerFixture`` is what a test gets as ``op_runner``.

Under pytest-xdist the controller owns the session: it makes the session id and hands it to every
worker (``workerinput``); each worker runs ops on its own backend, labelling every container and
network with that id; at the end the controller removes whatever still carries the label, once.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest

from .backend import ExecutorBackend, NodeBackend, OpBackend, StartedOp, sweep_session
from .client import NodeClient
from .errors import BackendError, OpspecError
from .executor import RunResult
from .executor.args import args_for
from .pkgs import resolve
from .reporting import run_report
from .runtime.base import LABEL_OWNER
from .session_node import SessionNode
from .settings import PluginSettings
from .snapshot import OpSnapshotExtension

log = logging.getLogger(__name__)

WORKER_SESSION_KEY = "opspec_session_id"  # in xdist's workerinput
WORKER_DIR_KEY = "opspec_session_dir"  # in xdist's workerinput
WORKER_PID_KEY = "opspec_controller_pid"  # in xdist's workerinput
WORKER_ENGINE_KEY = "opspec_engine_used"  # in xdist's workeroutput


class OpspecResources:
    """What one pytest process shares for running ops: settings, the session id, the backend."""

    def __init__(self, settings: PluginSettings, *, workerinput: Mapping[str, Any] | None = None) -> None:
        self.settings = settings
        self.is_worker = workerinput is not None
        if workerinput is not None:
            self.session_id = workerinput[WORKER_SESSION_KEY]
            self.session_dir = Path(workerinput[WORKER_DIR_KEY])
            self.owner_pid = int(workerinput[WORKER_PID_KEY])
        else:
            self.session_id = f"pytest-{uuid.uuid4().hex}"
            self.session_dir = Path(tempfile.gettempdir()) / self.session_id  # made when first needed
            self.owner_pid = os.getpid()
        self.session_node = SessionNode(self.session_dir / "node", owner_pid=self.owner_pid,
                                        image_map=settings.image_map, pull_policy=settings.pull.value)
        self._backend: OpBackend | None = None
        self._lock = threading.Lock()
        # Set on the controller when a worker reports that it used the engine (or went down uncleanly).
        self.workers_used_engine = False
        self._closed = False

    @property
    def label(self) -> str:
        """The label every container and network of this session carries."""
        return f"{LABEL_OWNER}={self.session_id}"

    def backend(self) -> OpBackend:
        with self._lock:
            if self._closed:
                raise OpspecError("the pytest session is over; ops can no longer be run")
            if self._backend is None:
                if self.settings.node_url:
                    self._backend = NodeBackend(self.settings.node_url)
                else:
                    self._backend = ExecutorBackend(
                        owner=self.session_id, image_map=self.settings.image_map, pull_policy=self.settings.pull,
                        keep_containers=self.settings.keep_containers)
            return self._backend

    def node_url(self) -> str:
        """The node under test: --opspec-node-url, or the session's bundled node (started on first use)."""
        return self.settings.node_url or self.session_node.url()

    @property
    def engine_used(self) -> bool:
        backend = self._backend
        return isinstance(backend, ExecutorBackend) and backend.connected

    def close(self) -> None:
        """Stop and remove what this process ran; on the controller, then sweep the whole session once.

        A second Ctrl-C would cut this short and leave containers behind, so SIGINT is ignored meanwhile.
        """
        with _sigint_ignored():
            if self._closed:
                return
            self._closed = True
            backend, self._backend = self._backend, None
            used_engine = isinstance(backend, ExecutorBackend) and backend.connected
            if backend is not None:
                backend.close()
            if self.is_worker:
                return
            try:
                self.session_node.stop()
            except OpspecError as error:
                log.warning("%s", error)
            shutil.rmtree(self.session_dir, ignore_errors=True)
            if self.settings.keep_containers or not (used_engine or self.workers_used_engine):
                return
            try:
                sweep_session(self.session_id)
            except Exception as error:  # the engine went away; the next session's start-up sweep gets the rest
                log.warning("could not remove the containers of session %s: %s", self.session_id, error)


class _sigint_ignored:
    """Ignores SIGINT (set from the main thread only) for the duration of a clean-up."""

    def __enter__(self) -> None:
        self._previous: Any = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, signal.SIG_IGN)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


RESOURCES = pytest.StashKey[OpspecResources]()


def resources(config: pytest.Config) -> OpspecResources:
    return config.stash[RESOURCES]


class OpRunnerFixture:
    """Runs ops for one test on the session's backend; what the ``op_runner`` fixture returns.

    Relative package refs and relative dir/file args are taken relative to ``cwd`` (the test file's
    directory). Args may be Python values, typed by the op's declared inputs, or Values. Whatever was
    started and is still running when the test ends is killed, and every op's files are released.
    """

    def __init__(self, backend: OpBackend, *, timeout: float | None, cwd: Path, shown_from: Path | None = None) -> None:
        self.backend = backend
        self.timeout = timeout
        self.cwd = cwd
        self.shown_from = shown_from or cwd  # reports show paths relative to it
        self._started: list[StartedOp] = []

    def start(self, pkg: str | os.PathLike[str], args: Mapping[str, Any] | None = None) -> StartedOp:
        """Start ``pkg`` and return at once: ``.id``, ``.events``, ``.wait(timeout)``, ``.kill()``."""
        package = resolve(os.fspath(pkg), lookup_dirs=[self.cwd])
        values = args_for(package.manifest, args or {}, self.cwd)
        started = self.backend.start(package.ref, values, cwd=self.cwd)
        self._started.append(started)
        return started

    def run(
        self, pkg: str | os.PathLike[str], args: Mapping[str, Any] | None = None, *,
        timeout: float | None = None, check: bool = False,
    ) -> RunResult:
        """Run ``pkg`` to its end (killed after ``timeout``, default ``--opspec-timeout``) and return its result.

        With ``check=True`` a run that does not succeed fails the test with a full report.
        """
        result = self.start(pkg, args).wait(timeout if timeout is not None else self.timeout)
        if check and not result.succeeded:
            pytest.fail(run_report(result, relative_to=self.shown_from), pytrace=False)
        return result

    def kill(self, op: StartedOp) -> RunResult:
        """Kill a started op and return its result (outcome KILLED unless it had already ended)."""
        return op.kill()

    def close(self) -> None:
        started, self._started = self._started, []
        for op in started:
            try:
                op.kill()  # a no-op for an op that ended
            finally:
                self.backend.release(op.id)


def _ready_backend(config: pytest.Config) -> OpBackend:
    """The backend, failing the test (without a traceback) when it cannot run ops."""
    backend = resources(config).backend()
    problem = None
    try:
        if isinstance(backend, ExecutorBackend):
            backend.executor()
        elif isinstance(backend, NodeBackend):
            backend.check_live()
    except BackendError as error:
        problem = str(error)
    if problem is not None:  # failed outside the except block, so no "during handling of" chain is shown
        pytest.fail(problem, pytrace=False)
    return backend


@pytest.fixture(scope="session")
def opspec_backend(pytestconfig: pytest.Config) -> OpBackend:
    """The session's op backend (the in-process executor, or the node of --opspec-node-url)."""
    return resources(pytestconfig).backend()


@pytest.fixture
def op_runner(request: pytest.FixtureRequest) -> Iterator[OpRunnerFixture]:
    """Run ops from a test: ``op_runner.run(pkg, args)``, ``op_runner.start(pkg, args)``, ``op_runner.kill(op)``."""
    config = request.config
    runner = OpRunnerFixture(_ready_backend(config), timeout=resources(config).settings.timeout,
                             cwd=request.path.parent, shown_from=config.invocation_params.dir)
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def node_client(pytestconfig: pytest.Config) -> Iterator[NodeClient]:
    """A NodeClient for the node under test: --opspec-node-url, or the bundled node, started once per session
    (shared by xdist workers) on a free loopback port."""
    try:
        url = resources(pytestconfig).node_url()
    except OpspecError as error:
        pytest.fail(str(error), pytrace=False)
    with NodeClient(url) as client:
        yield client


@pytest.fixture
def op_snapshot(snapshot: Any) -> Any:
    """syrupy's ``snapshot`` with stable op runs: ``assert op_runner.run(pkg) == op_snapshot``."""
    return snapshot.use_extension(OpSnapshotExtension)
