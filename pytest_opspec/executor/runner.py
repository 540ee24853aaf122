"""The Python API: run an op to its end, or start it and kill it later."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

from ..events import Event
from ..limits import Limits, as_limits
from ..model.args import args_for
from .cancel import CancelReason
from ..values.secrets import Secrets
from .executor import Executor, RootPackage
from .result import CallSite, RunResult, StartedRun


class _RootEvents:
    """Collects the events of one root op from the bus (its id is known only after start); hands each to
    ``on_event`` too, as it comes."""

    def __init__(self, on_event: Callable[[Event], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self.root_op_id: str | None = None
        self._on_event = on_event

    def __call__(self, event: Event) -> None:
        with self._lock:
            bound = self.root_op_id is not None
            if bound and event.root_op_id != self.root_op_id:
                return
            self._events.append(event)
        if bound and self._on_event is not None:
            self._on_event(event)

    def bind(self, root_op_id: str) -> None:
        with self._lock:
            self.root_op_id = root_op_id
            self._events = [e for e in self._events if e.root_op_id == root_op_id]
            early = list(self._events)
        if self._on_event is not None:
            for event in early:
                self._on_event(event)

    def snapshot(self) -> list[Event]:
        with self._lock:
            return list(self._events)


class RunningOp(StartedRun):
    """A started root op: wait for it, kill it, or look at its events so far."""

    def __init__(self, executor: Executor, root_op_id: str, collector: _RootEvents, unsubscribe: Any) -> None:
        self.executor = executor
        self.id = root_op_id
        self._collector = collector
        self._unsubscribe = unsubscribe

    @property
    def events(self) -> list[Event]:
        return self._collector.snapshot()

    @property
    def done(self) -> bool:
        root = self.executor.root(self.id)
        return root is None or root.done.is_set()

    def kill(self) -> RunResult:
        self.executor.kill(self.id)
        return self.finish()

    def _wait(self, timeout: float | None) -> bool:
        try:
            return self.executor.wait(self.id, timeout) is not None
        except BaseException:  # Ctrl-C while waiting: stop the op before leaving
            self.executor.kill(self.id)
            self.executor.wait(self.id, 30)
            raise

    def _stop_after_timeout(self) -> None:
        self.executor.kill(self.id, CancelReason.TIMED_OUT)
        self.executor.wait(self.id)

    def _result(self, timed_out: bool) -> RunResult:
        self._unsubscribe()
        root = self.executor.root(self.id)
        run = root.run if root is not None else None
        secrets = run.secrets if run is not None else Secrets()
        failure = run.failure if run is not None else None
        failed_call = CallSite(failure.manifest, failure.pointer) if failure is not None and failure.manifest else None
        packages = list(run.used_packages.values()) if run is not None else []
        return RunResult.from_events(self.id, self._collector.snapshot(), timed_out=timed_out, secrets=secrets,
                                     failed_call=failed_call, packages=packages)


class OpRunner:
    """Runs ops on an executor. Args may be Values or Python values, typed by the op's inputs."""

    def __init__(self, executor: Executor, *, cwd: Path | None = None, timeout: float | None = None) -> None:
        self.executor = executor
        self.cwd = cwd
        self.timeout = timeout

    def start(
        self, pkg: str | os.PathLike[str] | RootPackage, args: Mapping[str, Any] | None = None, *,
        limits: Limits | Mapping[str, Any] | None = None, on_event: Callable[[Event], None] | None = None,
    ) -> RunningOp:
        """Start the op; ``limits`` (a Limits or ``{"memory": "64m", ...}``) apply to every container; ``on_event``
        gets each of its events as it comes (e.g. to show output live)."""
        cwd = self.cwd or Path.cwd()
        root = pkg if isinstance(pkg, RootPackage) else self.executor.resolve(os.fspath(pkg), cwd)
        values = args_for(root.package.manifest, args or {}, cwd)
        collector = _RootEvents(on_event)
        unsubscribe = self.executor.bus.subscribe(collector)
        try:
            root_op_id = self.executor.start(root, values, cwd=cwd, limits=as_limits(limits))
        except BaseException:
            unsubscribe()
            raise
        collector.bind(root_op_id)
        return RunningOp(self.executor, root_op_id, collector, unsubscribe)

    def run(
        self, pkg: str | os.PathLike[str], args: Mapping[str, Any] | None = None, *, timeout: float | None = None,
        limits: Limits | Mapping[str, Any] | None = None,
    ) -> RunResult:
        return self.start(pkg, args, limits=limits).finish(timeout if timeout is not None else self.timeout)
