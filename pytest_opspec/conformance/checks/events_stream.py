"""GET /events/stream: the WebSocket, its messages, their order, and the since/roots filters."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable
from urllib.parse import urlencode

from ..openapi import schema_errors

from .. import events
from ..context import Context, OpRun
from ..registry import CheckFailed, Clause, Endpoint, Level, Phase, check
from ..scenarios import failing_run, ordering_run, quick_run, replay_run
from ..transport import EventStream, Message, StreamRefused

UPGRADED = "/events/stream get: \"The connection will be upgraded to use the websocket protocol.\""
SINCE = "since: \"Filters events to those occurring on/after the provided instant\", format: date-time"
ROOTS = "roots: \"Filters events to those w/ the provided root op ids\", type: array, explode: false"
ORDERING = "SEMANTICS §8 Ordering (the reference's behaviour; the seed is silent)"
# The fields each event type carries whenever it is published (the seed lists them per type; `outputs`
# and `data`'s siblings may be empty, so only these are expected).
EXPECTED_FIELDS = {
    "containerExited": ("imageRef", "exitCode", "rootOpId", "containerId", "pkgRef"),
    "containerStarted": ("imageRef", "rootOpId", "containerId", "pkgRef"),
    "containerStdErrWrittenTo": ("imageRef", "data", "rootOpId", "containerId", "pkgRef"),
    "containerStdOutWrittenTo": ("imageRef", "data", "rootOpId", "containerId", "pkgRef"),
    "opEnded": ("rootOpId", "opId", "pkgRef", "outcome"),
    "opStarted": ("rootOpId", "opId", "pkgRef"),
    "opErred": ("rootOpId", "msg", "opId", "pkgRef"),
    "parallelCallEnded": ("rootOpId", "callId"),
    "serialCallEnded": ("rootOpId", "callId"),
}
SHOWN = 8  # problems listed in a failure message
# Seconds a replay of ended ops may pause before the suite judges what came.
REPLAY_QUIET = 5.0


def _report(problems: list[str], what: str) -> None:
    if problems:
        more = f"\n... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise CheckFailed(f"{len(problems)} {what}:\n" + "\n".join(problems[:SHOWN]) + more)


def _read_roots(ctx: Context, query: str, roots: Iterable[str]) -> list[Message]:
    """Messages on a stream with ``query`` until every root in ``roots`` has sent its opEnded, or until
    none came for REPLAY_QUIET seconds: the roots have ended, so their events are all stored and due
    at once (what is missing is then reported as missing, not waited for)."""
    waiting = set(roots)
    received: list[Message] = []
    with ctx.open_stream(query) as stream:
        while waiting:
            message = stream.receive(min(REPLAY_QUIET, ctx.config.timeout))
            if message is None:
                break
            received.append(message)
            root = events.root_of(message)
            if root in waiting and events.is_op_ended(message, root):
                waiting.discard(root)
    return received


def _differences(expected: list[Message], got: list[Message]) -> list[str]:
    """What ``got`` lacks or has beyond ``expected`` (compared as JSON documents, in order)."""
    if [m.key for m in got] == [m.key for m in expected]:
        return []
    expected_keys = {m.key for m in expected}
    got_keys = {m.key for m in got}
    problems = [f"missing: {events.describe(m)}" for m in expected if m.key not in got_keys]
    problems += [f"unexpected: {events.describe(m)}" for m in got if m.key not in expected_keys]
    if problems:
        return problems
    index = next((i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a.key != b.key), None)
    if index is None:
        return [f"{len(got)} events, expected {len(expected)}: some were sent more than once"]
    return [f"the same events, in a different order: event {index + 1} is {events.describe(got[index])}, "
            f"expected {events.describe(expected[index])}"]


# -- the WebSocket -------------------------------------------------------------------------------

@check("events.stream.upgrade", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST,
       clause=f"{UPGRADED}; responses '101': Upgrade: websocket, Connection: Upgrade",
       title="a WebSocket handshake is answered 101 Switching Protocols")
def upgrade(ctx: Context) -> None:
    with ctx.open_stream(ctx.since_now()) as stream:
        handshake = stream.handshake
    problems = []
    if handshake.status != 101:
        problems.append(f"status {handshake.status}, expected 101")
    if (handshake.headers.get("Upgrade") or "").lower() != "websocket":
        problems.append(f"Upgrade: {handshake.headers.get('Upgrade')!r}, expected websocket")
    tokens = [t.strip().lower() for t in (handshake.headers.get("Connection") or "").split(",")]
    if "upgrade" not in tokens:
        problems.append(f"Connection: {handshake.headers.get('Connection')!r}, expected Upgrade")
    _report(problems, "problems with the handshake answer")


@check("events.stream.plain-get-refused", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST,
       clause=f"{UPGRADED}; responses '101' and '400': \"Bad Request\" (the only other answer listed)",
       title="a GET that does not ask for a WebSocket is a 400")
def plain_get_refused(ctx: Context) -> None:
    exchange = ctx.request("GET", EventStream.TEMPLATE, template=EventStream.TEMPLATE)
    if exchange.status != 400:
        raise CheckFailed(f"{exchange.describe()} without Upgrade headers: expected 400 {exchange.excerpt()}")


@check("events.stream.answers-ping", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST,
       clause=Clause(UPGRADED, "the websocket protocol, RFC 6455 §5.5.2: \"Upon receipt of a Ping frame, an "
                               "endpoint MUST send a Pong frame in response\""),
       title="the node answers a WebSocket ping")
def answers_ping(ctx: Context) -> None:
    with ctx.open_stream(ctx.since_now()) as stream:
        pong = stream.connection.ping()
        if not pong.wait(min(ctx.config.timeout, 5.0)):
            raise CheckFailed("no pong within 5 s of a ping")


# -- messages (judged last: every message any check received) --------------------------------------

def _all_messages(ctx: Context) -> list[Message]:
    """Every distinct message received (the replay checks receive each event on several streams)."""
    # Make sure there is something of every common kind to judge, even when run alone.
    ctx.scenario(ordering_run)
    ctx.scenario(failing_run)
    distinct: dict[str, Message] = {}
    for message in ctx.messages:
        distinct.setdefault(message.key, message)
    return list(distinct.values())


def _event_problems(document: Any) -> list[str]:
    """What is wrong with an event the Event schema rejects, said precisely: for an event with one type
    key, its body against that type's schema and its timestamp (the oneOf's own message names a branch)."""
    kind = events.event_type(document)
    if kind is None:
        return schema_errors("Event", document)
    problems = [f"{kind}.{problem}" for problem in schema_errors(f"{kind[0].upper()}{kind[1:]}Event", document[kind])]
    if events.timestamp_ns(document) is None:
        problems.append(f"timestamp: {document.get('timestamp')!r} is not an RFC 3339 date-time")
    return problems or schema_errors("Event", document)


@check("events.stream.messages-match-spec", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST, phase=Phase.LAST,
       clause="responses '101' content: application/json: schema: items: $ref: '#/components/schemas/Event'; "
              "\"MUST validate against the API spec\"",
       title="every message is one JSON event valid against the Event schema")
def messages_match_spec(ctx: Context) -> None:
    problems = []
    for message in _all_messages(ctx):
        if message.parse_error:
            problems.append(f"[{message.check_id}] {message.parse_error}: {message.excerpt()}")
            continue
        if schema_errors("Event", message.document):
            problems.append(f"[{message.check_id}] {'; '.join(_event_problems(message.document)[:3])}: "
                            f"{message.excerpt()}")
    _report(problems, "messages are not valid Events")


@check("events.stream.fields-complete", endpoint=Endpoint.EVENTS_STREAM, level=Level.SHOULD, phase=Phase.LAST,
       clause="components/schemas, e.g. \"OpStartedEvent: properties: rootOpId, opId, pkgRef\" (each event type "
              "lists the properties it carries)",
       title="events carry the fields the seed lists for their type")
def fields_complete(ctx: Context) -> None:
    problems = []
    for message in _all_messages(ctx):
        kind = events.event_type(message.document)
        if kind is None:
            continue  # not an event at all: messages-match-spec reports it
        missing = [name for name in EXPECTED_FIELDS[kind] if name not in events.body(message.document)]
        if missing:
            problems.append(f"[{message.check_id}] {kind} lacks {', '.join(missing)}: {message.excerpt()}")
    _report(problems, "events lack fields")


# -- ordering ------------------------------------------------------------------------------------

def _containers(run: OpRun) -> dict[str, list[int]]:
    """Indices of each container's events in the run."""
    found: dict[str, list[int]] = {}
    for index, message in enumerate(run.events):
        if events.event_type(message.document) in events.CONTAINER_TYPES:
            found.setdefault(str(events.field(message.document, "containerId")), []).append(index)
    return found


def _container_printing(run: OpRun, text: str) -> str | None:
    for message in run.events:
        if text in events.output_text(message.document):
            return str(events.field(message.document, "containerId"))
    return None


def _index(run: OpRun, kind: str, **fields: Any) -> int | None:
    for index, message in enumerate(run.events):
        if events.event_type(message.document) == kind and all(
                events.field(message.document, key) == value for key, value in fields.items()):
            return index
    return None


def _nested_op(run: OpRun) -> str | None:
    for message in run.events:
        if events.event_type(message.document) == "opStarted" and events.field(message.document, "opId") != run.op_id:
            return events.field(message.document, "opId")
    return None


@check("events.stream.op-started-first", endpoint=Endpoint.EVENTS_STREAM, level=Level.SHOULD,
       clause=Clause("opStarted \"comes before any event of its children\"", ORDERING, reference_only=True),
       title="an op's opStarted (and a container's containerStarted) precedes everything it causes")
def op_started_first(ctx: Context) -> None:
    problems = []
    for run in (ctx.scenario(ordering_run), ctx.scenario(failing_run)):
        first = run.events[0]
        if not (events.event_type(first.document) == "opStarted" and events.field(first.document, "opId") == run.op_id):
            problems.append(f"op {run.op_id}: its first event is {events.describe(first)}, not its opStarted")
        for container, indices in _containers(run).items():
            if events.event_type(run.events[indices[0]].document) != "containerStarted":
                problems.append(f"container {container}: {events.describe(run.events[indices[0]])} comes before "
                                "its containerStarted")
    ordering = ctx.scenario(ordering_run)
    nested = _nested_op(ordering)
    nested_container = _container_printing(ordering, "hello nested")
    if nested is None or nested_container is None:
        problems.append("the nested op of conformance-ordering: no opStarted for it, or no output from its container")
    else:
        started = _index(ordering, "opStarted", opId=nested)
        if started is not None and started > min(_containers(ordering)[nested_container]):
            problems.append(f"nested op {nested}: its container {nested_container} has events before its opStarted")
    _report(problems, "ordering problems")


@check("events.stream.op-ended-last", endpoint=Endpoint.EVENTS_STREAM, level=Level.SHOULD,
       clause=Clause("opEnded \"comes last\"", ORDERING, reference_only=True),
       title="an op's opEnded (and a container's containerExited) follows everything it caused")
def op_ended_last(ctx: Context) -> None:
    problems = []
    for run in (ctx.scenario(ordering_run), ctx.scenario(failing_run)):
        for message in run.after_end:
            problems.append(f"op {run.op_id}: {events.describe(message)} came after its opEnded")
        for container, indices in _containers(run).items():
            if events.event_type(run.events[indices[-1]].document) != "containerExited":
                problems.append(f"container {container}: {events.describe(run.events[indices[-1]])} comes after "
                                "its containerExited (or it has none)")
    ordering = ctx.scenario(ordering_run)
    nested = _nested_op(ordering)
    nested_container = _container_printing(ordering, "hello nested")
    ended = _index(ordering, "opEnded", opId=nested) if nested else None
    if ended is None or nested_container is None:
        problems.append("the nested op of conformance-ordering: no opEnded for it, or no output from its container")
    elif ended < max(_containers(ordering)[nested_container]):
        problems.append(f"nested op {nested}: its container {nested_container} has events after its opEnded")
    _report(problems, "ordering problems")


@check("events.stream.op-erred-before-failed", endpoint=Endpoint.EVENTS_STREAM, level=Level.SHOULD,
       clause=Clause("\"opErred always comes directly before opEnded FAILED\"; OpErredEvent: msg", ORDERING,
                     reference_only=True),
       title="a failed op reports opErred, with its message, right before opEnded FAILED")
def op_erred_before_failed(ctx: Context) -> None:
    run = ctx.scenario(failing_run)
    if run.outcome != "FAILED":
        raise CheckFailed(f"conformance-fails (its container exits 3) ended {events.describe(run.ended)}, "
                          "expected outcome FAILED")
    before = run.events[-2] if len(run.events) > 1 else None
    if before is None or events.event_type(before.document) != "opErred" or \
            events.field(before.document, "opId") != run.op_id:
        shown = events.describe(before) if before else "nothing"
        raise CheckFailed(f"the event before opEnded FAILED is {shown}, expected the op's opErred")
    if not isinstance(events.field(before.document, "msg"), str) or not events.field(before.document, "msg"):
        raise CheckFailed(f"the opErred has no message: {before.excerpt()}")


@check("events.stream.calls-ended-after-children", endpoint=Endpoint.EVENTS_STREAM, level=Level.SHOULD,
       clause=Clause("Event oneOf: 'parallelCallEnded': ParallelCallEndedEvent, 'serialCallEnded': "
                     "SerialCallEndedEvent", "SEMANTICS §7: a call ends after its children", reference_only=True),
       title="parallelCallEnded and serialCallEnded follow their children's events")
def calls_ended_after_children(ctx: Context) -> None:
    run = ctx.scenario(ordering_run)
    containers = _containers(run)
    parallel = _index(run, "parallelCallEnded")
    serial = max((i for i, m in enumerate(run.events) if events.event_type(m.document) == "serialCallEnded"),
                 default=None)
    problems = []
    children = [_container_printing(run, text) for text in ("parallel-a", "parallel-b")]
    if parallel is None or None in children:
        problems.append("no parallelCallEnded, or no output from one of the parallel block's containers")
    else:
        for child in children:
            if max(containers[str(child)]) > parallel:
                problems.append(f"container {child} of the parallel block has events after parallelCallEnded")
    if serial is None:
        problems.append("no serialCallEnded for the op's serial call")
    else:
        late = [m for m in run.events[serial + 1:-1] if events.event_type(m.document) != "serialCallEnded"]
        problems += [f"{events.describe(m)} comes after the serial call's serialCallEnded" for m in late]
    _report(problems, "call ordering problems")


# -- filters and replay ----------------------------------------------------------------------------

@check("events.stream.roots-filter", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST, clause=ROOTS,
       title="roots keeps exactly the events of the listed root ops (one id, or several comma-separated)")
def roots_filter(ctx: Context) -> None:
    quick, failing = ctx.scenario(quick_run).run, ctx.scenario(failing_run)
    problems = []
    for runs in ((quick,), (quick, failing)):
        ids = [run.op_id for run in runs]
        query = urlencode({"since": events.EPOCH, "roots": ",".join(ids)}, safe=",")
        got = _read_roots(ctx, query, ids)
        problems += [f"?{query}: event of another root: {events.describe(m)}" for m in got
                     if events.root_of(m) not in ids]
        for run in runs:
            problems += [f"?{query}: {problem}" for problem in _differences(run.events, events.of_root(got, run.op_id))]
    _report(problems, "filtering problems")


def _since_case(ctx: Context, since: str, since_ns: int) -> list[str]:
    run = ctx.scenario(ordering_run)
    expected = [m for m in run.events if (events.timestamp_ns(m.document) or 0) >= since_ns]
    query = urlencode({"since": since, "roots": run.op_id})
    got = events.of_root(_read_roots(ctx, query, [run.op_id]), run.op_id)
    return [f"?{query}: {problem}" for problem in _differences(expected, got)]


def _middle_event(ctx: Context) -> tuple[str, int]:
    """The timestamp text and value of an event in the middle of the ordering run."""
    run = ctx.scenario(ordering_run)
    middle = run.events[len(run.events) // 2]
    text, value = middle.document.get("timestamp"), events.timestamp_ns(middle.document)
    if not isinstance(text, str) or value is None:
        raise CheckFailed(f"the event has no RFC 3339 timestamp to filter by: {middle.excerpt()}")
    return text, value


@check("events.stream.since-filter", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST, clause=SINCE,
       title="since replays exactly the events at or after the instant (inclusive)")
def since_filter(ctx: Context) -> None:
    text, value = _middle_event(ctx)
    _report(_since_case(ctx, text, value), "filtering problems")


@check("events.stream.since-offset", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST,
       clause=f"{SINCE} (RFC 3339: an instant may be written with any UTC offset)",
       title="since means the same instant whatever UTC offset it is written with")
def since_offset(ctx: Context) -> None:
    _, value = _middle_event(ctx)
    seconds, nanos = divmod(value, 1_000_000_000)
    zone = timezone(timedelta(hours=2))
    moment = datetime.fromtimestamp(seconds, tz=zone).strftime("%Y-%m-%dT%H:%M:%S")
    text = f"{moment}.{nanos:09d}+02:00"
    _report(_since_case(ctx, text, value), "filtering problems")


@check("events.stream.since-extremes", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST,
       clause=f"{SINCE} (RFC 3339: years 0001 to 9999)",
       title="a since at the first or the last RFC 3339 instant is a valid filter (everything, or nothing yet)")
def since_extremes(ctx: Context) -> None:
    run = ctx.scenario(quick_run).run
    first = urlencode({"since": "0001-01-01T00:00:00Z", "roots": run.op_id})
    problems = [f"?{first}: {problem}" for problem in _differences(run.events, events.of_root(
        _read_roots(ctx, first, [run.op_id]), run.op_id))]
    last = urlencode({"since": "9999-12-31T23:59:59.999999999Z", "roots": run.op_id})
    with ctx.open_stream(last) as stream:
        problems += [f"?{last}: an event before the instant: {events.describe(m)}" for m in stream.read_for(0.3)]
    _report(problems, "filtering problems")


@check("events.stream.replay-then-live", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST, clause=SINCE,
       title="streams joined mid-run with a past since get the op's past events, then its live ones, with no gap")
def replay_then_live(ctx: Context) -> None:
    run = ctx.scenario(replay_run)
    problems = []
    for number, stream in enumerate(run.joined, 1):
        seen: set[str] = set()
        first_copies = []
        for message in stream.messages:
            if message.key not in seen:
                seen.add(message.key)
                first_copies.append(message)
        problems += [f"stream {number} of {len(run.joined)} (?{stream.query}): {problem}"
                     for problem in _differences(run.complete, first_copies)]
    _report(problems, "differences from the stream opened before the start")


@check("events.stream.no-duplicates", endpoint=Endpoint.EVENTS_STREAM, level=Level.SHOULD,
       clause=Clause(SINCE, "SEMANTICS §10.16: the reference sends events published during the switch from "
                            "replay to live twice; de-duplicate", reference_only=True),
       title="no event is sent twice, also across the switch from replay to live")
def no_duplicates(ctx: Context) -> None:
    run = ctx.scenario(replay_run)
    problems = []
    streams = [(f"stream {number} of {len(run.joined)} joined mid-run (?{stream.query})", stream.messages)
               for number, stream in enumerate(run.joined, 1)]
    for name, messages in [*streams, ("the stream opened before the start", run.complete)]:
        seen: set[str] = set()
        for message in messages:
            if message.key in seen:
                problems.append(f"{name}: sent twice: {events.describe(message)}")
            seen.add(message.key)
    _report(problems, "duplicates")


@check("events.stream.bad-since", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST,
       clause=f"{SINCE}; responses '400': \"Bad Request\"",
       title="a since that is not an RFC 3339 date-time is a 400, before any upgrade")
def bad_since(ctx: Context) -> None:
    problems = []
    for value in ("not-a-time", "2024-13-45T25:61:00Z", "2024-01-01", "1700000000"):
        query = urlencode({"since": value})
        try:
            stream = ctx.stream(query)
        except StreamRefused as refused:
            if refused.exchange.status != 400:
                problems.append(f"since={value!r}: {refused.exchange.describe()}, expected 400")
            continue
        stream.close()
        problems.append(f"since={value!r}: the node upgraded the connection (101), expected 400")
    _report(problems, "bad since values not refused")
