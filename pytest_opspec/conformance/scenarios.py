"""Ops the checks share: each runs once per suite run (``Context.scenario``) and several checks judge
different aspects of it, so the suite starts few containers."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from . import events
from .context import OPS_KILLS, Context, OpRun
from .engine import ContainerState
from .pkgs import FAILS, ORDERING, QUICK, SLEEPER, TICKER
from .registry import CheckDisabled, CheckFailed
from .transport import Exchange, Message

# Seconds after the killed op's opEnded within which its container must be gone (removal is async).
REMOVAL_GRACE = 5.0
# Seconds the ordering run keeps reading after the root's opEnded, to catch events that follow it.
DRAIN = 0.5


@dataclass
class QuickRun:
    run: OpRun
    who: str  # the arg passed as input `who`; the container prints "hello <who>"


def quick_run(ctx: Context) -> QuickRun:
    who = f"conformance-{secrets.token_hex(4)}"
    return QuickRun(ctx.run_op(QUICK, {"who": {"string": who}}), who)


def ordering_run(ctx: Context) -> OpRun:
    return ctx.run_op(ORDERING, drain=DRAIN)


def failing_run(ctx: Context) -> OpRun:
    return ctx.run_op(FAILS, drain=DRAIN)


def _ended_early(op_id: str, received: list[Message], waited_for: str) -> CheckFailed:
    erred = [m for m in received if events.event_type(m.document) == "opErred" and events.root_of(m) == op_id]
    why = f": {events.field(erred[-1].document, 'msg')}" if erred else ""
    return CheckFailed(f"op {op_id} ended ({events.field(received[-1].document, 'outcome')}) before {waited_for}"
                       f"{why}")


@dataclass
class KillRun:
    op_id: str
    container_id: str | None
    kill: Exchange
    events: list[Message]  # the root's events up to its opEnded (or as many as came)
    end_error: str | None  # why no opEnded arrived
    engine_reason: str  # why the container was not observed ("" when it was)
    state_before: ContainerState | None = None
    state_at_end: ContainerState | None = None
    removed_within: float | None = None  # seconds after opEnded until the container was gone

    @property
    def ended(self) -> Message | None:
        last = self.events[-1] if self.events else None
        return last if last is not None and events.is_op_ended(last, self.op_id) else None


def kill_run(ctx: Context) -> KillRun:
    """Start the sleeper, wait until its container printed "ready", kill it, follow it to its end."""
    with ctx.open_stream(ctx.since_now()) as stream:
        op_id, _ = ctx.start_op(SLEEPER)

        def ready(message: Message) -> bool:
            return events.root_of(message) == op_id and (
                "ready" in events.output_text(message.document) or events.is_op_ended(message, op_id))

        received = events.of_root(stream.read_until(ready, "'ready' from the sleeper's container"), op_id)
        if events.is_op_ended(received[-1], op_id):
            raise _ended_early(op_id, received, "its container printed 'ready'")
        started = [m for m in received if events.event_type(m.document) == "containerStarted"]
        container_id = events.field(started[0].document, "containerId") if started else None
        engine, engine_reason = None, ""
        try:
            engine = ctx.engine
        except CheckDisabled as disabled:
            engine_reason = str(disabled)
        state_before = engine.state(container_id) if engine and isinstance(container_id, str) else None
        kill = ctx.post_json(OPS_KILLS, {"opId": op_id})
        end_error = None
        try:
            received += events.of_root(stream.read_until(lambda m: events.is_op_ended(m, op_id),
                                                         f"opEnded of the killed op {op_id}"), op_id)
        except CheckFailed as failure:
            end_error = str(failure)
    result = KillRun(op_id, container_id, kill, received, end_error, engine_reason, state_before)
    if engine is not None and isinstance(container_id, str):
        result.state_at_end = engine.state(container_id)
        ended_at = time.monotonic()
        state = result.state_at_end
        while state is not None and time.monotonic() - ended_at < REMOVAL_GRACE:
            time.sleep(0.1)
            state = engine.state(container_id)
        if state is None:
            result.removed_within = time.monotonic() - ended_at
    return result


@dataclass
class ReplayRun:
    op_id: str
    complete: list[Message]  # the root's events on a stream opened before the start
    joined: list[Message]  # everything on a stream opened mid-run with since=<epoch>&roots=<op id>
    joined_query: str


def replay_run(ctx: Context) -> ReplayRun:
    """Start the ticker; once it printed tick-1, join with ``since`` at the epoch; read both to the end."""
    with ctx.open_stream(ctx.since_now()) as complete:
        op_id, _ = ctx.start_op(TICKER)

        def ticked(message: Message) -> bool:
            return events.root_of(message) == op_id and (
                "tick-1" in events.output_text(message.document) or events.is_op_ended(message, op_id))

        before = events.of_root(complete.read_until(ticked, "tick-1 from the ticker"), op_id)
        if events.is_op_ended(before[-1], op_id):
            raise _ended_early(op_id, before, "the stream could join it")
        query = urlencode({"since": events.EPOCH, "roots": op_id})
        with ctx.open_stream(query) as joining:
            # What the first stream holds by now happened before the join; the op must still run.
            before += events.of_root(complete.read_for(0.05), op_id)
            if any(events.is_op_ended(m, op_id) for m in before):
                raise RuntimeError("the ticker ended before the second stream joined it; the machine is too slow "
                                   "for the replay-then-live checks to mean anything")
            joined = joining.read_until(lambda m: events.is_op_ended(m, op_id), f"opEnded of op {op_id}")
        rest = events.of_root(complete.read_until(lambda m: events.is_op_ended(m, op_id), f"opEnded of op {op_id}"),
                              op_id)
    return ReplayRun(op_id, before + rest, joined, query)
