"""Root ops a node started and has not ended, kept on disk so that a restart can end them.

A node that is SIGKILLed (or crashes, or loses its machine) never publishes the ``opEnded`` of the ops
it was running, and clients waiting for it would wait forever. So the node keeps one small file per
running root op (``<data dir>/running/<root op id>``, holding its package ref), written at the root's
first event and removed at its ``opEnded``. At start-up, every file left over is an op that the
previous node did not end: it ends now with ``opErred`` (the reason) and ``opEnded`` FAILED, stored
and replayed like any other event. (Its containers are gone already: the previous node's reaper
removed them, see runtime/lease.py.)
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from ..events import Event, EventType, Outcome
from ..events.bus import EventBus

log = logging.getLogger(__name__)

INTERRUPTED_MESSAGE = ("the node stopped while this op was running (it was killed or crashed); "
                       "the op was ended when the node started again")

_ROOT_ID = re.compile(r"[A-Za-z0-9-]{1,128}")


class RunningOps:
    """A bus subscriber that records which root ops are running (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._running: set[str] = set()

    def __call__(self, event: Event) -> None:
        root_op_id = event.root_op_id
        ended = event.type is EventType.OP_ENDED and event.op_id == root_op_id
        try:
            if ended:
                self._running.discard(root_op_id)
                (self.directory / root_op_id).unlink(missing_ok=True)
            elif root_op_id not in self._running:
                self._running.add(root_op_id)
                (self.directory / root_op_id).write_text(event.pkg_ref or "", encoding="utf-8")
        except OSError as error:  # a full disk must not break the op; only a restart would miss it
            log.warning("could not record root op %s as running: %s", root_op_id, error)

    def end_interrupted(self, bus: EventBus) -> list[str]:
        """End every op the previous node left running (call before the node runs any op); return their ids."""
        ended = []
        for entry in sorted(os.scandir(self.directory), key=lambda e: e.name):
            if not _ROOT_ID.fullmatch(entry.name):
                continue
            pkg_ref = Path(entry.path).read_text(encoding="utf-8", errors="replace")
            root_op_id = entry.name
            bus.publish(Event(type=EventType.OP_ERRED, root_op_id=root_op_id, op_id=root_op_id, pkg_ref=pkg_ref,
                              msg=INTERRUPTED_MESSAGE, call_path=(root_op_id,)))
            bus.publish(Event(type=EventType.OP_ENDED, root_op_id=root_op_id, op_id=root_op_id, pkg_ref=pkg_ref,
                              outcome=Outcome.FAILED, call_path=(root_op_id,)))
            Path(entry.path).unlink(missing_ok=True)
            ended.append(root_op_id)
        return ended
