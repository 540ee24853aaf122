"""SIGTERM ends a pytest session the way Ctrl-C does, so its containers are removed (CI systems cancel
jobs with SIGTERM; pytest itself would just die). Installed only over the default handler."""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest

_PREVIOUS = pytest.StashKey[Any]()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install(config: pytest.Config) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        config.stash[_PREVIOUS] = signal.signal(signal.SIGTERM, _interrupt)


def uninstall(config: pytest.Config) -> None:
    previous = config.stash.get(_PREVIOUS, None)
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)
        del config.stash[_PREVIOUS]
