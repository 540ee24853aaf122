"""What the pytest fixtures and scenario items run ops on: a small "op backend" interface.

The fixtures and scenario items only ever talk to an ``OpBackend``: start an op with typed args and get
a ``StartedOp`` (its id, its events so far, wait, kill), interpret an op without running it, release
an ended op's files, close. ``ExecutorBackend`` runs ops in-process on the bundled executor; a
node-backed implementation (``--opspec-node-url``) drives any node through a NodeClient with the same
interface, and ``RunResult.from_events`` builds results from any node's events.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Mapping, Protocol

from .client import NodeClient, NodeError
from .errors import BackendError, EngineUnavailableError, OpspecError
from .events import Event, EventType
from .executor import Executor, OpRunner, RunResult, interpret_op
from .model import load_op
from .pkgs import resolve
from .runtime.base import LABEL_OWNER, PullPolicy
from .values import Value

log = logging.getLogger(__name__)


class StartedOp(Protocol):
    """A root op that was started on a backend."""

    id: str

    @property
    def events(self) -> list[Event]:
        """Its events so far, in order."""

    def wait(self, timeout: float | None = None) -> RunResult:
        """Wait for its end; past ``timeout`` kill it and return the result with ``timed_out`` set.

        A KeyboardInterrupt while waiting kills the op before it propagates.
        """

    def kill(self) -> RunResult:
        """Kill it and wait for its end."""


class OpBackend(Protocol):
    """Runs ops for a pytest session (or one xdist worker of it)."""

    #: Says what runs the ops, for the session header and failure reports.
    description: str

    def start(self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path) -> StartedOp:
        """Start ``pkg`` (resolved against ``cwd`` when relative) as a root op with ``args``.

        Raises OpspecError when the package does not resolve or the backend cannot run ops (no engine,
        no node); everything after that is reported through the op's events.
        """

    def interpret(self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path) -> dict[str, Value]:
        """Resolve and load ``pkg`` and bind its inputs from ``args``, starting nothing.

        Returns the bound inputs; raises OpspecError listing every problem. Never needs an engine.
        """

    def release(self, op_id: str) -> None:
        """Forget an ended op and delete its files (its file and dir outputs stop being readable)."""

    def close(self) -> None:
        """Kill what still runs and remove everything this backend created."""


class ExecutorBackend:
    """The bundled executor, in this process, on the local Docker engine.

    The engine is connected on the first ``start``, not before: collection, validation and interpretation
    never need it. That first connection also sweeps what crashed sessions on this host left behind
    (their process is gone), the way testcontainers' reaper does. Every container and network is
    labelled with ``owner`` (the pytest session id, shared by all xdist workers), so the session's
    controller can remove all of it at the end with one sweep.
    """

    description = "in-process executor (local Docker engine)"

    def __init__(
        self, *, owner: str, image_map: Mapping[str, str] | None = None,
        pull_policy: PullPolicy = PullPolicy.MISSING, keep_containers: bool = False,
    ) -> None:
        self.owner = owner
        self._image_map = dict(image_map or {})
        self._pull_policy = pull_policy
        self._keep_containers = keep_containers
        self._lock = threading.Lock()
        self._executor: Executor | None = None
        self._runtime = None
        self._unavailable: EngineUnavailableError | None = None
        self._closed = False

    @property
    def connected(self) -> bool:
        """Whether the engine was ever connected (so there may be something to clean up)."""
        return self._executor is not None

    def executor(self) -> Executor:
        """The session's executor, connecting the engine on first use.

        A missing engine raises EngineUnavailableError, once per attempt and then immediately for every
        later call, so a session without an engine fails fast instead of waiting on every op.
        """
        with self._lock:
            if self._closed:
                raise OpspecError("the opspec session is over; ops can no longer be started")
            if self._unavailable is not None:
                raise self._unavailable
            if self._executor is None:
                from .runtime.docker import DockerRuntime

                try:
                    runtime = DockerRuntime(pull_policy=self._pull_policy, image_map=self._image_map,
                                            keep_containers=self._keep_containers)
                    runtime.ping()
                except EngineUnavailableError as error:
                    self._unavailable = error
                    raise
                try:
                    removed = runtime.sweep_stale()
                    if removed:
                        log.info("removed %d containers/networks left behind by crashed sessions", removed)
                except Exception as error:  # a failed sweep must not stop the session
                    log.warning("could not sweep stale containers: %s", error)
                self._runtime = runtime
                self._executor = Executor(runtime, owner=self.owner, keep_containers=self._keep_containers)
            return self._executor

    def start(self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path) -> StartedOp:
        return OpRunner(self.executor(), cwd=cwd).start(pkg, args)

    def interpret(self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path) -> dict[str, Value]:
        return interpret_here(pkg, args, cwd=cwd)

    def release(self, op_id: str) -> None:
        if self._executor is not None:
            self._executor.release(op_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            executor, runtime = self._executor, self._runtime
        if executor is not None:
            executor.close()
        if runtime is not None:
            runtime.close()


def interpret_here(pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path) -> dict[str, Value]:
    """Interpretation happens in this process for every backend: the node API has no dry run."""
    with tempfile.TemporaryDirectory(prefix="opspec-interpret-") as scratch:
        return interpret_op(os.fspath(pkg), args, cwd=cwd, scratch_dir=Path(scratch))


class NodeOp:
    """A root op started on a node; a background reader collects its events from the node's stream."""

    # How long to wait for a killed op's opEnded before giving up on the node.
    KILL_GRACE = 60.0

    def __init__(self, client: NodeClient, op_id: str, secret_values: frozenset[str]) -> None:
        self.id = op_id
        self._client = client
        self._secret_values = secret_values
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._ended = threading.Event()
        self._stream_error: OpspecError | None = None
        # Opened before this returns; `since` the epoch, so the node replays what happened meanwhile.
        self._stream = client.events(since=0, roots=[op_id])
        self._reader = threading.Thread(target=self._read, name=f"opspec-node-{op_id[:8]}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for event in self._stream:
                with self._lock:
                    # Arrival order is the node's order; number the events so results keep it.
                    self._events.append(dataclasses.replace(event, seq=len(self._events) + 1))
                if event.type is EventType.OP_ENDED and event.op_id == self.id:
                    return
            self._stream_error = OpspecError(f"the node closed the event stream before op {self.id} ended")
        except OpspecError as error:
            self._stream_error = error
        finally:
            self._stream.close()
            self._ended.set()

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    @property
    def done(self) -> bool:
        return self._ended.is_set()

    def wait(self, timeout: float | None = None) -> RunResult:
        timed_out = False
        try:
            if not self._ended.wait(timeout):
                timed_out = True
                self._client.kill_op(self.id)
                self._ended.wait(self.KILL_GRACE)
        except BaseException:  # Ctrl-C while waiting: stop the op before leaving
            self._kill_quietly()
            raise
        if self._stream_error is not None:
            raise self._stream_error
        if not self._ended.is_set():
            raise OpspecError(f"op {self.id} did not end within {self.KILL_GRACE:g} s of being killed")
        return RunResult.from_events(self.id, self.events, timed_out=timed_out, secret_values=self._secret_values)

    def kill(self) -> RunResult:
        if not self._ended.is_set():
            self._client.kill_op(self.id)
        return self.wait(self.KILL_GRACE)

    def _kill_quietly(self) -> None:
        try:
            self._client.kill_op(self.id)
            self._ended.wait(self.KILL_GRACE)
        except OpspecError as error:
            log.warning("could not kill op %s on the node: %s", self.id, error)


class NodeBackend:
    """Any node, through its API (``--opspec-node-url``): the same tests check any node.

    Packages are referred to by their absolute path, so the node must see this machine's files (the
    bundled node, or any node on this host). Interpretation happens here (the API has no dry run).
    """

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.client = NodeClient(url, timeout=timeout)
        self.description = f"node at {url}"
        self._lock = threading.Lock()
        self._started: dict[str, NodeOp] = {}
        self._live: bool | BackendError | None = None

    def start(self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path) -> StartedOp:
        package = resolve(os.fspath(pkg), lookup_dirs=[cwd])
        try:
            op_id = self.client.start_op(package.ref, args)
        except NodeError as error:
            if error.status >= 500:  # the node's own fault, not a call that fails
                raise BackendError(f"the node at {self.client.base_url} failed to start the op: {error}") from None
            raise
        started = NodeOp(self.client, op_id, _secret_values(package.manifest, args))
        with self._lock:
            self._started[op_id] = started
        return started

    def check_live(self) -> None:
        """Raise BackendError once (and on every later call) when the node does not serve."""
        if self._live is None:
            try:
                self.client.liveness()
                self._live = True
            except OpspecError as error:
                self._live = BackendError(f"the node at {self.client.base_url} cannot run ops: {error}")
        if isinstance(self._live, BackendError):
            raise self._live

    def interpret(self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path) -> dict[str, Value]:
        return interpret_here(pkg, args, cwd=cwd)

    def release(self, op_id: str) -> None:
        with self._lock:
            self._started.pop(op_id, None)

    def close(self) -> None:
        with self._lock:
            running = [op for op in self._started.values() if not op.done]
            self._started.clear()
        for op in running:
            op._kill_quietly()
        self.client.close()


def _secret_values(manifest: Path, args: Mapping[str, Value]) -> frozenset[str]:
    """The text of every arg given to a secret input, for masking reports (a remote node does not say)."""
    try:
        params = load_op(manifest).inputs
    except OpspecError:
        return frozenset()
    return frozenset(str(value.to_python()) for name, value in args.items()
                     if name in params and params[name].is_secret and isinstance(value.data, (str, int, float))
                     and str(value.to_python()))


def sweep_session(owner: str) -> int:
    """Remove every container and network labelled with session ``owner`` (any worker, any pid).

    The session's controller calls this once at the end; it is a no-op when nothing is left.
    """
    from .runtime.docker import DockerRuntime

    runtime = DockerRuntime()
    try:
        return runtime.sweep({LABEL_OWNER: owner})
    finally:
        runtime.close()
