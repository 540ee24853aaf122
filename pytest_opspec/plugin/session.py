"""The session's op resources: ``OpspecResources`` (one per pytest process, kept in ``config.stash``)
owns the session id, the op backend and the session's bundled node, and cleans up after them.

Under pytest-xdist the controller owns the session: it makes the session id and hands it to every
worker (``workerinput``); each worker runs ops on its own backend, labelling every container and
network with that id; at the end the controller removes whatever still carries the label, once.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import pytest

from ..errors import BackendError, OpspecError
from .options import PluginSettings
from .session_node import SessionNode

# Backends, packages, leases, the node client and the console load when first used: a run that uses no op
# never imports them.
if TYPE_CHECKING:
    from ..pkgs.resolve import PackageResolver
    from ..runtime.lease import Lease
    from ..backends.base import OpBackend
    from ..backends.runtime import RuntimeFactory
    from ..events import Event
    from ..node.tls import ClientTLS
    from ..values import Value
    from .throwaway import ArgCopies

log = logging.getLogger(__name__)

WORKER_SESSION_KEY = "opspec_session_id"  # in xdist's workerinput
WORKER_DIR_KEY = "opspec_session_dir"  # in xdist's workerinput
WORKER_PID_KEY = "opspec_controller_pid"  # in xdist's workerinput
WORKER_ENGINE_KEY = "opspec_engine_used"  # in xdist's workeroutput


class OpspecResources:
    """What one pytest process shares for running ops: settings, the session id, the backend."""

    def __init__(self, settings: PluginSettings, *, workerinput: Mapping[str, Any] | None = None,
                 runtime_factory: RuntimeFactory | None = None) -> None:
        self.settings = settings
        self._runtime_factory = runtime_factory  # None: the one runtime factory (backends/runtime.py)
        self.is_worker = workerinput is not None
        self._session_dir: Path | None = None
        if workerinput is not None:
            self.session_id = workerinput[WORKER_SESSION_KEY]
            self._session_dir = Path(workerinput[WORKER_DIR_KEY])
            self.owner_pid = int(workerinput[WORKER_PID_KEY])
        else:
            self.session_id = f"pytest-{os.urandom(16).hex()}"
            self.owner_pid = os.getpid()
        self._lease: Lease | None = None
        self._session_node: SessionNode | None = None
        self._backend: OpBackend | None = None
        self._packages: PackageResolver | None = None
        self._lock = threading.RLock()  # backend() reads packages under it
        # Set on the controller when a worker reports that it used the engine (or went down uncleanly).
        self.workers_used_engine = False
        self._closed = False

    @property
    def packages(self) -> PackageResolver:
        """One resolver per process: xdist workers and other sessions share the cache through its file locks."""
        with self._lock:
            if self._packages is None:
                from ..pkgs.resolve import PackageResolver

                self._packages = PackageResolver(self.settings.package_options())
            return self._packages

    @property
    def session_dir(self) -> Path:
        """The session's files (the bundled node's), shared by xdist workers. The controller makes it
        when first needed, as a lease's dir: the lease's reaper removes it if the session dies."""
        with self._lock:
            if self._session_dir is None:
                from ..runtime.lease import Lease

                self._lease = Lease.acquire(self.session_id)
                self._session_dir = self._lease.scratch
            return self._session_dir

    @property
    def session_node(self) -> SessionNode:
        if self._session_node is None:
            self._session_node = SessionNode(self.session_dir / "node", owner_pid=self.owner_pid,
                                             image_map=self.settings.image_map,
                                             pull_policy=self.settings.pull)
        return self._session_node

    @property
    def label(self) -> str:
        """The label every container and network of this session carries."""
        from ..runtime.base import LABEL_OWNER

        return f"{LABEL_OWNER}={self.session_id}"

    def backend(self) -> OpBackend:
        with self._lock:
            if self._closed:
                raise OpspecError("the pytest session is over; ops can no longer be run")
            if self._backend is None:
                from ..backends.executor import ExecutorBackend
                from ..backends.node import NodeBackend
                from ..backends.runtime import make_runtime
                from ..runtime.base import PullPolicy

                if self.settings.node_url:
                    self._backend = NodeBackend(self.settings.node_url, packages=self.packages,
                                                tls=self.settings.node_tls)
                else:
                    self._backend = ExecutorBackend(
                        owner=self.session_id, image_map=self.settings.image_map,
                        pull_policy=PullPolicy(self.settings.pull), keep_containers=self.settings.keep_containers,
                        packages=self.packages,
                        runtime_factory=self._runtime_factory or make_runtime, default_limits=self.settings.limits)
            return self._backend

    def arg_copies(self) -> ArgCopies:
        """A place for one test's throwaway copies of dir and file args (removed with the session at the latest)."""
        from .throwaway import ArgCopies

        return ArgCopies(self.session_dir / "args")

    def node_url(self) -> str:
        """The node under test: --opspec-node-url, or the session's bundled node (started on first use)."""
        return self.settings.node_url or self.session_node.url()

    def node_tls(self) -> ClientTLS | None:
        """TLS to the node under test (the bundled session node serves plain HTTP on loopback)."""
        return self.settings.node_tls if self.settings.node_url else None

    @property
    def engine_used(self) -> bool:
        return _used_engine(self._backend)

    def close(self) -> None:
        """Stop and remove what this process ran; on the controller, then sweep the whole session once.

        A second Ctrl-C would cut this short and leave containers behind, so SIGINT is ignored meanwhile.
        """
        with _sigint_ignored():
            if self._closed:
                return
            self._closed = True
            backend, self._backend = self._backend, None
            used_engine = _used_engine(backend)
            if backend is not None:
                backend.close()
            if self.is_worker:
                return
            try:
                if self._session_dir is not None:  # a worker may have started the node
                    self.session_node.stop()
            except OpspecError as error:
                log.warning("%s", error)
            if self._lease is not None:
                self._lease.release()
            if self.settings.keep_containers or not (used_engine or self.workers_used_engine):
                return
            from ..backends.runtime import sweep_session

            try:
                sweep_session(self.session_id)
            except Exception as error:  # the engine went away; the next session's start-up sweep gets the rest
                log.warning("could not remove the containers of session %s: %s", self.session_id, error)


def _used_engine(backend: OpBackend | None) -> bool:
    if backend is None:  # no op ran: the backends were never imported
        return False
    from ..backends.executor import ExecutorBackend

    return isinstance(backend, ExecutorBackend) and backend.connected


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


# The marker on every item that needs a container engine (or the node of --opspec-node-url), and the
# fixtures that make a test such an item.
ENGINE_MARKER = "opspec_engine"
ENGINE_FIXTURES = frozenset({"op_runner", "node_client", "opspec_backend"})


def require_engine(config: pytest.Config) -> OpBackend:
    """The backend, ready to run ops; otherwise this item is an error with one line saying why (or is skipped
    with --opspec-skip-without-engine). The first failed attempt is remembered, so later items fail at once."""
    from ..backends.executor import ExecutorBackend
    from ..backends.node import NodeBackend

    session = resources(config)
    backend = session.backend()
    problem = None
    try:
        if isinstance(backend, ExecutorBackend):
            backend.executor()
        elif isinstance(backend, NodeBackend):
            backend.check_live()
    except BackendError as error:
        problem = str(error)
    if problem is None:
        return backend
    # Raised outside the except block, so no "during handling of" chain is shown.
    if session.settings.skip_without_engine:
        pytest.skip(problem)
    pytest.fail(f"{problem}\n(this test needs it: leave such tests out with -m 'not {ENGINE_MARKER}', or skip them "
                f"with --opspec-skip-without-engine)", pytrace=False)


def live_printer(config: pytest.Config, manifest: Path, args: Mapping[str, Value]) -> Callable[[Event], None] | None:
    """With ``-s -v``: a printer of the op's events as they come, with the prefixes of `opspec run`."""
    if config.getoption("capture") != "no" or config.get_verbosity() < 1:
        return None
    from ..backends.base import SecretParams
    from ..reporting.console import EventPrinter

    return EventPrinter(sys.stdout, mask=SecretParams.of(manifest, args).secrets.mask)
