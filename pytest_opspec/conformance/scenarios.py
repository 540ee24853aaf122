"""Ops the checks share: each runs once per suite run (``Context.scenario``) and several checks judge
different aspects of it, so the suite starts few containers."""

from __future__ import annotations

import secrets
import time
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlencode

from . import events
from .context import OPS_KILLS, Context, OpRun
from .engine import ContainerState
from .pkgs import CHATTY, FAILS, ORDERING, QUICK, SLEEPER
from .registry import CheckDisabled, CheckFailed
from .transport import EventStream, Exchange, Message

# Seconds after the killed op's opEnded within which its container must be gone (removal is async).
REMOVAL_GRACE = 5.0
# Seconds a kill by opRunId may take to end the op before the suite calls it ignored.
OP_RUN_ID_WAIT = 10.0
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


def _start_ready_sleeper(ctx: Context, stream: EventStream) -> tuple[str, list[Message]]:
    """Start the sleeper; its id and its events up to its container's "ready"."""
    op_id, _ = ctx.start_op(SLEEPER)

    def ready(message: Message) -> bool:
        return events.root_of(message) == op_id and (
            "ready" in events.output_text(message.document) or events.is_op_ended(message, op_id))

    received = events.of_root(stream.read_until(ready, "'ready' from the sleeper's container"), op_id)
    if events.is_op_ended(received[-1], op_id):
        raise _ended_early(op_id, received, "its container printed 'ready'")
    return op_id, received


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
        op_id, received = _start_ready_sleeper(ctx, stream)
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


# Streams that join the chatty op with since, one every JOIN_INTERVAL seconds while it prints: each join
# is a switch from replay to live with events being published (a duplicate or a gap there is a race,
# so one join would rarely show it; the reference duplicated an event in about a third of them).
JOINS = 8
JOIN_INTERVAL = 0.1


@dataclass
class OpRunIdKill:
    op_id: str
    kill: Exchange  # POST /ops/kills {"opRunId": <op id>}
    ended: Message | None  # the op's opEnded, when it came within OP_RUN_ID_WAIT


def op_run_id_kill(ctx: Context) -> OpRunIdKill:
    """Start the sleeper, kill it naming it only as ``opRunId``, and see whether it ends; then make sure
    it does (by ``opId``)."""
    with ctx.open_stream(ctx.since_now()) as stream:
        op_id, _ = _start_ready_sleeper(ctx, stream)
        kill = ctx.post_json(OPS_KILLS, {"opRunId": op_id})
        ended = None
        if 200 <= kill.status < 300:
            try:
                ended = stream.read_until(lambda m: events.is_op_ended(m, op_id), f"opEnded of op {op_id}",
                                          timeout=min(ctx.config.timeout, OP_RUN_ID_WAIT))[-1]
            except CheckFailed:
                pass
        if ended is None:
            ctx.post_json(OPS_KILLS, {"opId": op_id})
    return OpRunIdKill(op_id, kill, ended)


@dataclass
class JoinedStream:
    query: str
    messages: list[Message]  # the op's events on a stream opened mid-run with since=<epoch>&roots=<op id>


@dataclass
class ReplayRun:
    op_id: str
    complete: list[Message]  # the op's events on a stream opened before the start
    joined: list[JoinedStream]


def replay_run(ctx: Context) -> ReplayRun:
    """Start the chatty op; once it prints, join it JOINS times with ``since`` at the epoch; read every
    stream to the op's end."""
    with ctx.open_stream(ctx.since_now()) as complete, ExitStack() as joins:
        op_id, _ = ctx.start_op(CHATTY)

        def printing(message: Message) -> bool:
            return events.root_of(message) == op_id and (
                "line-" in events.output_text(message.document) or events.is_op_ended(message, op_id))

        received = events.of_root(complete.read_until(printing, "output from the chatty op"), op_id)
        if events.is_op_ended(received[-1], op_id):
            raise _ended_early(op_id, received, "the streams could join it")
        query = urlencode({"since": events.EPOCH, "roots": op_id})
        streams = []
        for _ in range(JOINS):
            time.sleep(JOIN_INTERVAL)
            streams.append(joins.enter_context(ctx.open_stream(query)))
        ended = f"opEnded of op {op_id}"
        received += events.of_root(complete.read_until(lambda m: events.is_op_ended(m, op_id), ended), op_id)
        joined = [JoinedStream(query, events.of_root(stream.read_until(lambda m: events.is_op_ended(m, op_id),
                                                                         ended), op_id)) for stream in streams]
    return ReplayRun(op_id, received, joined)
