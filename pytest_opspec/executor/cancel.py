"""Cancel scopes: how a kill, or a failing parallel sibling, stops the calls beneath it."""

from __future__ import annotations

import threading
from enum import Enum
from typing import Callable


class CancelReason(Enum):
    KILLED = "killed"  # the root op was killed
    TIMED_OUT = "timed out"  # the root op was killed by its run's timeout
    SIBLING_FAILED = "sibling failed"  # a parallel block is failing fast


class Killed(Exception):
    """Raised inside a call whose scope was cancelled; ops report it as outcome KILLED."""


class CancelScope:
    """A node in a tree of scopes. Cancelling one cancels its descendants and stops their containers.

    Every call checks its scope before it starts anything, so a kill is remembered (SEMANTICS §10.11).
    """

    def __init__(self, parent: CancelScope | None = None) -> None:
        self._lock = threading.Lock()
        self._children: list[CancelScope] = []
        self._stoppers: dict[str, Callable[[], None]] = {}
        self.reason: CancelReason | None = None
        self.parent = parent
        if parent is not None:
            parent._adopt(self)

    def _adopt(self, child: CancelScope) -> None:
        with self._lock:
            self._children.append(child)
            reason = self.reason
        if reason is not None:
            child.cancel(reason)

    def child(self) -> CancelScope:
        return CancelScope(self)

    @property
    def cancelled(self) -> bool:
        return self.reason is not None

    def check(self) -> None:
        if self.reason is not None:
            raise Killed(self.reason.value)

    def register(self, key: str, stop: Callable[[], None]) -> None:
        """Register how to stop a running thing (a container); runs at once if already cancelled."""
        with self._lock:
            self._stoppers[key] = stop
            cancelled = self.reason is not None
        if cancelled:
            stop()

    def unregister(self, key: str) -> None:
        with self._lock:
            self._stoppers.pop(key, None)

    def cancel(self, reason: CancelReason) -> None:
        with self._lock:
            if self.reason is not None:
                return
            self.reason = reason
            stoppers = list(self._stoppers.values())
            children = list(self._children)
        # Stop containers in parallel: each force-removal is an engine round trip.
        threads = [threading.Thread(target=stop, daemon=True) for stop in stoppers]
        for thread in threads:
            thread.start()
        for child in children:
            child.cancel(reason)
        for thread in threads:
            thread.join()
