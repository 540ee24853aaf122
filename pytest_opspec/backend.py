"""What the pytest fixtures and scenario items run ops on: a small "op backend" interface.

The fixtures and scenario items only ever talk to an ``OpBackend``: start an op with typed args and get
a ``StartedOp`` (its id, its events so far, wait, kill), interpret an op without running it, release
an ended op's files, close. ``ExecutorBackend`` runs ops in-process on the bundled executor; a
node-backed implementation (``--opspec-node-url``) drives any node through a NodeClient with the same
interface, and ``RunResult.from_events`` builds results from any node's events.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Mapping, Protocol

from .errors import EngineUnavailableError, OpspecError
from .events import Event
from .executor import Executor, OpRunner, RunResult, interpret_op
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
        with tempfile.TemporaryDirectory(prefix="opspec-interpret-") as scratch:
            return interpret_op(os.fspath(pkg), args, cwd=cwd, scratch_dir=Path(scratch))

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
