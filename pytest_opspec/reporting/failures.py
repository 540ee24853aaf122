"""Failure reports a person can act on, for a run that did not end as expected.

A report says how the op ended and why (the root's error), where in the call graph it failed (the
chain of ops down to the failing call, and that call's op.yml line with a snippet), the args it got
(secret inputs masked), and each container's exit code with the last lines of its output.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from .console import format_value
from ..errors import OpspecError
from ..events import EventType
from ..executor.result import RunResult
from ..model import Problem, json_path, load_op
from ..model.render import snippet, source_lines
from ..values import Value

TAIL_LINES = 20


def run_report(
    result: RunResult, *, args: Mapping[str, Value] | None = None, secret_inputs: frozenset[str] = frozenset(),
    relative_to: Path | None = None, tail_lines: int = TAIL_LINES,
) -> str:
    """The whole report; every secret value bound in the run is masked, and every secret arg."""
    lines = result.outcome_lines()
    lines.extend(failure_location(result, relative_to))
    if args:
        lines.append("args:")
        for name, value in sorted(args.items()):
            lines.append(f"  {name} = {format_value(value, secret=name if name in secret_inputs else None)}")
    for container in result.containers:
        lines.extend(container.tail(tail_lines))
    return result.mask("\n".join(lines))


def failure_location(result: RunResult, relative_to: Path | None = None) -> list[str]:
    """Where the run failed: the op chain from the root, the failing call's op.yml line and a snippet."""
    lines = []
    chain = _failing_op_chain(result)
    if len(chain) > 1:
        lines.append("failed in: " + " > ".join(chain))
    site = result.failed_call
    if site is None:
        return lines
    manifest = Path(site.manifest)
    shown = manifest.relative_to(relative_to) if relative_to and manifest.is_relative_to(relative_to) else manifest
    location = _location(site.pointer)
    try:
        position = load_op(manifest).key_position_of(site.pointer)
    except OpspecError:  # op.yml changed or broke since the run; the pointer still says where
        position = None
    where = f"{shown}:{position.line}:{position.column}" if position else str(shown)
    lines.append(f"failing call: {where}: {json_path(location)}")
    if position is not None:
        code = snippet(source_lines(manifest), Problem(manifest, "", location, position))
        lines.extend(code.splitlines())
    return lines


def _failing_op_chain(result: RunResult) -> list[str]:
    """Names of the ops from the root down to the first op that erred (the deepest one)."""
    names: dict[str, str] = {}
    for event in result.events:
        if event.op_id and event.type in (EventType.OP_STARTED, EventType.OP_ERRED) and event.op_id not in names:
            names[event.op_id] = _short(event.pkg_ref)
    erred = next((event for event in result.events if event.type is EventType.OP_ERRED), None)
    if erred is None:
        return []
    # The erred op's call path runs from the root to itself (empty for events from a remote node).
    chain = [names[call_id] for call_id in erred.call_path if call_id in names]
    return chain or [names.get(erred.op_id or "", _short(erred.pkg_ref))]


def _short(ref: str | None) -> str:
    if not ref:
        return "?"
    return os.path.basename(ref.rstrip("/")) if os.path.isabs(ref) else ref


def _location(pointer: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isdigit() else part)
    return tuple(parts)

