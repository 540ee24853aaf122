"""Human-readable live output of a run: container output with a prefix, op starts and ends."""

from __future__ import annotations

import os
import sys
import threading
from typing import Callable, TextIO

from ..events import Event, EventType, Outcome
from ..runtime.exits import ExitReason
from ..values import Value
from ..values.secrets import placeholder

_COLORS = ("36", "33", "35", "32", "34", "96", "93", "95")


def _short(ref: str | None) -> str:
    if not ref:
        return "?"
    return os.path.basename(ref.rstrip("/")) or ref


def format_value(value: Value, secret: str | None = None) -> str:
    """``value`` for people; the placeholder of param ``secret`` instead when it is secret."""
    if secret is not None:
        return placeholder(secret)
    data = value.to_python()
    if isinstance(data, (dict, list)):
        import json

        return json.dumps(data, sort_keys=True)
    return str(data)


class EventPrinter:
    """Prints events as they come; thread-safe. ``mask`` hides the secrets known at the time of printing."""

    def __init__(
        self, stream: TextIO | None = None, *, color: bool | None = None, mask: Callable[[str], str] = lambda t: t,
    ) -> None:
        self.stream = stream or sys.stdout
        self.color = self.stream.isatty() and os.environ.get("NO_COLOR") is None if color is None else color
        self._mask = mask
        self._lock = threading.Lock()
        self._prefixes: dict[str, str] = {}

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def _prefix(self, event: Event) -> str:
        prefix = self._prefixes.get(event.container_id or "")
        if prefix is None:
            label = f"{_short(event.pkg_ref)} {event.image_ref or ''} {(event.container_id or '')[:6]}"
            label = label.replace("  ", " ")
            prefix = self._paint(_COLORS[len(self._prefixes) % len(_COLORS)], f"[{label.strip()}]") + " "
            self._prefixes[event.container_id or ""] = prefix
        return prefix

    def __call__(self, event: Event) -> None:
        line = self._line(event)
        if line is None:
            return
        with self._lock:
            self.stream.write(self._mask(line))
            self.stream.flush()

    def _line(self, event: Event) -> str | None:
        kind = event.type
        if kind in (EventType.CONTAINER_STDOUT_WRITTEN_TO, EventType.CONTAINER_STDERR_WRITTEN_TO):
            text = (event.data or b"").decode("utf-8", errors="replace").replace("\r\n", "\n")
            if not text.endswith("\n"):
                text += "\n"  # a partial last line still ends the printed line
            if not event.pkg_ref:  # image pull progress
                return self._paint("2", f"[pull {(event.container_id or '')[:6]}] {text}")
            return self._prefix(event) + text
        if kind is EventType.OP_STARTED:
            return self._paint("1", f"▶ op {_short(event.pkg_ref)} started") + "\n"
        if kind is EventType.OP_ERRED:
            message = (event.msg or "").strip().strip("-").strip()
            return self._paint("31", f"✖ op {_short(event.pkg_ref)}: {message}") + "\n"
        if kind is EventType.OP_ENDED:
            outcome = event.outcome
            code = {"SUCCEEDED": "32", "FAILED": "31", "KILLED": "33"}.get(outcome.value if outcome else "", "0")
            mark = "✔" if outcome is Outcome.SUCCEEDED else "✖"
            ended = outcome.value.lower() if outcome else "ended"
            return self._paint(code, f"{mark} op {_short(event.pkg_ref)} {ended}") + "\n"
        if kind is EventType.CONTAINER_EXITED and event.exit_code:
            exit = event.container_exit
            plain = (ExitReason.EXITED, ExitReason.NOT_STARTED)
            why = f": {exit.describe()}" if exit is not None and exit.reason not in plain else ""
            return self._prefix(event) + self._paint("31", f"exited with code {event.exit_code}{why}") + "\n"
        return None
