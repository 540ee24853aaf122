"""opctl's node discovery file, written on request so opctl 0.1.21's CLI drives this node.

That CLI does not probe the API: it reads ``$HOME/opctl/pid.lock``, and when no live process is named
there it starts ``opctl node create`` (which wipes ``$HOME/opctl`` state and then fails on the busy
port). Writing our pid there makes it talk to us at localhost:42224 instead. The file belongs to
opctl, so it is only written when asked (``opspec node --opctl-lock``), never over a live owner,
and removed on shutdown if it still names us.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..processes import process_exists

log = logging.getLogger(__name__)


class OpctlLock:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Path.home() / "opctl" / "pid.lock"
        self._held = False

    def owner(self) -> int | None:
        """The live pid the file names, if any."""
        try:
            words = self.path.read_text(encoding="utf-8").split()
            pid = int(words[0]) if words else 0
        except (OSError, ValueError):
            return None
        return pid if pid > 0 and process_exists(pid) else None

    def acquire(self) -> bool:
        owner = self.owner()
        if owner is not None and owner != os.getpid():
            log.warning("%s names live process %d (an opctl node?); not taking it over", self.path, owner)
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{os.getpid()}\n", encoding="utf-8")
        self._held = True
        return True

    def release(self) -> None:
        if self._held and self.owner() == os.getpid():
            self.path.unlink(missing_ok=True)
        self._held = False
