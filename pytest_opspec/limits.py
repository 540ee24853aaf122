"""Resource limits for every container of an op: memory, cpus, pids and the network switch.

Each limit is parsed once, where it is given (a flag, an env var, an ini key, a scenario, a Python
call), by the parsers below; they raise ValueError with a message to show after the setting's name.
``Limits`` holds the parsed values; ``None`` means "no limit" (the engine's default).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any, Callable, ClassVar, Mapping

from .errors import OpspecError

# The smallest memory limit Docker accepts (its own check: "Minimum memory limit allowed is 6MB").
MIN_MEMORY_BYTES = 6 * 1024 * 1024
# Docker counts cpus in billionths and refuses less than a hundredth of a cpu.
MIN_CPUS = 0.01

_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)


class Network(StrEnum):
    OP = "op"  # one network per root op: containers reach each other by name (opspec's behaviour)
    NONE = "none"  # no network at all, not even to the outside


class LimitError(OpspecError):
    """A limit that does not parse; the message names where it was given, ``key`` and ``reason`` say what."""

    def __init__(self, message: str, key: str, reason: str) -> None:
        super().__init__(message)
        self.key = key
        self.reason = reason


def parse_memory(text: str | int) -> int:
    """A memory limit: a size (``parse_size``) the engine accepts, at least 6 MiB."""
    size = parse_size(text)
    if size < MIN_MEMORY_BYTES:
        raise ValueError(f"{text!r} is below the smallest memory limit the engine accepts (6m)")
    return size


def parse_size(text: str | int) -> int:
    """``64m``, ``1.5g``, ``512MiB``, ``67108864``: bytes, binary units as Docker reads them (m = MiB)."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a memory size (e.g. 64m, 1g)")
    if isinstance(text, int):
        number, unit = float(text), ""
    else:
        match = _SIZE.fullmatch(str(text))
        if match is None:
            raise ValueError(f"{text!r} is not a memory size (e.g. 64m, 512MiB, 1g)")
        number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * _UNITS[unit])


def parse_cpus(text: str | float) -> float:
    """A number of cpus, e.g. ``0.5`` (half of one cpu's time), at least 0.01."""
    try:
        if isinstance(text, bool):
            raise ValueError
        cpus = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of cpus (e.g. 0.5, 2)") from None
    if not math.isfinite(cpus) or cpus < MIN_CPUS:
        raise ValueError(f"{text!r}: the engine needs at least {MIN_CPUS} cpus")
    return cpus


def parse_pids(text: str | float) -> int:
    """The most processes (and threads) the container may have at once, at least 1."""
    try:
        if isinstance(text, bool) or (isinstance(text, float) and not text.is_integer()):
            raise ValueError
        pids = int(text)  # a str "1.5" raises here too
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number of processes (e.g. 64)") from None
    if pids < 1:
        raise ValueError(f"{text!r}: the pids limit must be at least 1")
    return pids


def parse_network(text: str) -> Network:
    try:
        return Network(str(text).strip().lower())
    except ValueError:
        raise ValueError(f"{text!r} is not a network mode; expected 'op' or 'none'") from None


def format_bytes(size: int) -> str:
    """``67108864`` -> ``64 MiB``; ``1610612736`` -> ``1.5 GiB``."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} B"


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits for every container of a run; ``None`` fields are not limited."""

    memory_bytes: int | None = None
    cpus: float | None = None
    pids: int | None = None
    network: Network | None = None  # None: the default, Network.OP

    # The key of each field in scenarios and in ``Limits.parse``, with its parser.
    KEYS: ClassVar[dict[str, tuple[str, Callable[[Any], Any]]]] = {
        "memory": ("memory_bytes", parse_memory), "cpus": ("cpus", parse_cpus), "pids": ("pids", parse_pids),
        "network": ("network", parse_network),
    }

    @classmethod
    def parse(cls, values: Mapping[str, Any], where: str = "limits") -> Limits:
        """Limits from ``{memory: 64m, cpus: 0.5, pids: 64, network: none}``; ``where`` names the source in errors."""
        parsed: dict[str, Any] = {}
        for key, value in values.items():
            if key not in cls.KEYS:
                reason = f"unknown limit {key!r}; expected one of {', '.join(cls.KEYS)}"
                raise LimitError(f"{where}: {reason}", key, reason)
            name, parser = cls.KEYS[key]
            if value is None:
                continue
            try:
                parsed[name] = parser(value)
            except ValueError as error:
                raise LimitError(f"{where}.{key}: {error}", key, str(error)) from None
        return cls(**parsed)

    def over(self, defaults: Limits) -> Limits:
        """These limits, with every unset field taken from ``defaults`` (a node's defaults under a run's own)."""
        return replace(defaults, **{f.name: getattr(self, f.name) for f in fields(self)
                                    if getattr(self, f.name) is not None})

    @property
    def no_network(self) -> bool:
        return self.network is Network.NONE

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def describe(self) -> str:
        """``memory 64 MiB, cpus 0.5, pids 64, network none``: the limits that are set."""
        parts = []
        if self.memory_bytes is not None:
            parts.append(f"memory {format_bytes(self.memory_bytes)}")
        if self.cpus is not None:
            parts.append(f"cpus {self.cpus:g}")
        if self.pids is not None:
            parts.append(f"pids {self.pids}")
        if self.network is not None:
            parts.append(f"network {self.network.value}")
        return ", ".join(parts) or "no limits"


NO_LIMITS = Limits()


def as_limits(limits: Limits | Mapping[str, Any] | None) -> Limits:
    """Limits as the Python API takes them: a Limits, or a mapping parsed like a scenario's ``limits``."""
    if limits is None:
        return NO_LIMITS
    return limits if isinstance(limits, Limits) else Limits.parse(limits)
