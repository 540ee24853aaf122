"""Why a container stopped, and what it used: the runtime's account of every container it ran."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..limits import format_bytes


class ExitReason(StrEnum):
    EXITED = "exited"  # its process ended by itself, with ``exit_code``
    OOM = "oom"  # the kernel killed it for memory (the engine says so)
    TIMEOUT = "timeout"  # the run's timeout killed it
    KILLED = "killed"  # a kill of the op removed it
    NOT_STARTED = "not-started"  # the engine could not pull, create or start it (``message`` says why)
    SIGNAL = "signal"  # a signal ended it (the engine reports 128 + the signal's number)


# Exit codes above 128 read as "ended by signal N" only for signals that end a process unasked
# (a shell's `exit 130` stays an exit code: the engine cannot tell the two apart for other numbers).
_FATAL_SIGNALS = frozenset({signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGKILL,
                            signal.SIGSEGV, signal.SIGTERM, signal.SIGQUIT, signal.SIGINT, signal.SIGSYS})


def signal_of(exit_code: int) -> signal.Signals | None:
    """The signal an exit code stands for (128 + N), when it is one that ends processes."""
    try:
        sig = signal.Signals(exit_code - 128)
    except ValueError:
        return None
    return sig if sig in _FATAL_SIGNALS else None


@dataclass(frozen=True, slots=True)
class ContainerExit:
    """One container's end. Figures are ``None`` when they could not be measured (see docs: where from)."""

    reason: ExitReason
    exit_code: int | None = None  # None when it never ran
    message: str | None = None  # the engine's words, for not-started
    signal: str | None = None  # e.g. "SIGSEGV", for reason signal
    memory_limit_bytes: int | None = None
    peak_memory_bytes: int | None = None
    cpu_seconds: float | None = None
    duration_seconds: float | None = None

    def describe(self) -> str:
        """The reason in plain words: ``out of memory (limit 64 MiB)``, ``exit code 2``."""
        if self.reason is ExitReason.EXITED:
            return f"exit code {self.exit_code}"
        if self.reason is ExitReason.OOM:
            limit = f" (limit {format_bytes(self.memory_limit_bytes)})" if self.memory_limit_bytes else ""
            return f"out of memory{limit}"
        if self.reason is ExitReason.TIMEOUT:
            return "stopped by the run's timeout"
        if self.reason is ExitReason.KILLED:
            return "killed"
        if self.reason is ExitReason.SIGNAL:
            return f"ended by {self.signal}"
        return f"not started: {self.message}"

    def figures(self) -> str:
        """``peak 12 MiB, cpu 0.31 s, 1.2 s``: what was measured, in that order."""
        parts = []
        if self.peak_memory_bytes is not None:
            parts.append(f"peak {format_bytes(self.peak_memory_bytes)}")
        if self.cpu_seconds is not None:
            parts.append(f"cpu {self.cpu_seconds:.2f} s")
        if self.duration_seconds is not None:
            parts.append(f"{self.duration_seconds:.2f} s")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"exit_reason": self.reason.value, "exit_code": self.exit_code,
                "peak_memory_bytes": self.peak_memory_bytes, "cpu_seconds": self.cpu_seconds,
                "duration_seconds": self.duration_seconds}
