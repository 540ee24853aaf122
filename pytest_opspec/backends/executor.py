"""The in-process op backend: the bundled executor on the local Docker engine; and ``run_op``."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import EngineUnavailableError, OpspecError
from ..events import Event
from ..executor.executor import Executor
from ..executor.result import RunResult
from ..executor.runner import OpRunner
from ..pkgs.resolve import PackageResolver
from ..limits import NO_LIMITS, Limits
from ..runtime.base import ContainerRuntime, PullPolicy
from ..runtime.lease import sweep_dead_leases
from ..values import Value
from .base import StartedOp, interpret_here
from .runtime import RuntimeFactory, make_runtime


class ExecutorBackend:
    """The bundled executor, in this process, on the local Docker engine.

    The engine is connected on the first ``start``, not before: collection, validation and interpretation
    never need it. That first connection also sweeps what dead sessions left when their reaper could
    not clean up (only leases that provably have no holder, runtime/lease.py). Every container and network is
    labelled with ``owner`` (the pytest session id, shared by all xdist workers), so the session's
    controller can remove all of it at the end with one sweep.
    """

    description = "in-process executor (local Docker engine)"

    def __init__(
        self, *, owner: str, image_map: Mapping[str, str] | None = None,
        pull_policy: PullPolicy = PullPolicy.MISSING, keep_containers: bool = False,
        packages: PackageResolver | None = None,
        runtime_factory: RuntimeFactory = make_runtime,
        default_limits: Limits = NO_LIMITS,
    ) -> None:
        self.owner = owner
        self.packages = packages or PackageResolver()
        self._runtime_factory = runtime_factory
        self._default_limits = default_limits
        self._image_map = dict(image_map or {})
        self._pull_policy = pull_policy
        self._keep_containers = keep_containers
        self._lock = threading.Lock()
        self._executor: Executor | None = None
        self._runtime: ContainerRuntime | None = None
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
                try:
                    runtime = self._runtime_factory(pull_policy=self._pull_policy, image_map=self._image_map,
                                                    keep_containers=self._keep_containers)
                    runtime.ping()
                except EngineUnavailableError as error:
                    self._unavailable = error
                    raise
                sweep_dead_leases(runtime)
                self._runtime = runtime
                self._executor = Executor(runtime, owner=self.owner, keep_containers=self._keep_containers,
                                          packages=self.packages, default_limits=self._default_limits)
            return self._executor

    def start(
        self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path, limits: Limits = NO_LIMITS,
        on_event: Callable[[Event], None] | None = None,
    ) -> StartedOp:
        return OpRunner(self.executor(), cwd=cwd).start(pkg, args, limits=limits, on_event=on_event)

    def interpret(self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path) -> dict[str, Value]:
        return interpret_here(pkg, args, cwd=cwd, packages=self.packages)

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


def run_op(
    pkg: str | os.PathLike[str], args: Mapping[str, Any] | None = None, *, timeout: float | None = None,
    cwd: Path | None = None, image_map: Mapping[str, str] | None = None,
    pull_policy: PullPolicy | str = PullPolicy.MISSING, tty: bool = False, packages: PackageResolver | None = None,
    limits: Limits | Mapping[str, Any] | None = None,
) -> RunResult:
    """Run one op to its end on the local Docker engine and return its result.

    File and dir outputs stay readable while the result is alive: its scratch directory is removed
    when it is collected. ``packages`` resolves remote refs (default: the user cache, fetching with git).
    """
    scratch = tempfile.TemporaryDirectory(prefix="opspec-run-")
    runtime = make_runtime(image_map=image_map, pull_policy=pull_policy)
    with Executor(runtime, data_dir=scratch.name, tty=tty, close_runtime=True, packages=packages) as executor:
        result = OpRunner(executor, cwd=cwd).run(pkg, args, timeout=timeout, limits=limits)
    result.scratch = scratch  # keeps the directory (and the outputs in it) alive with the result
    return result
