"""Whether a process of this PID namespace exists: the one liveness probe for pid files and pid labels."""

from __future__ import annotations

import os


def process_exists(pid: int) -> bool:
    """True while ``pid`` exists, also when it belongs to another user (signal 0 probes without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
