"""The event-stream checks that judge what a node sent, fed made-up streams (a correct one, then one
broken in exactly one way each), so each is shown able to fail without breaking a real node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_opspec.conformance.checks import events_stream
from pytest_opspec.conformance.config import Config
from pytest_opspec.conformance.context import Context, OpRun
from pytest_opspec.conformance.pkgs import SuitePackages
from pytest_opspec.conformance.checks import all_checks
from pytest_opspec.conformance import registry
from pytest_opspec.conformance.registry import REGISTRY, Clause, Endpoint, Level
from pytest_opspec.conformance.runner import Outcome, run_check
from pytest_opspec.conformance.scenarios import JoinedStream, ReplayRun
from pytest_opspec.conformance.transport import Exchange, Headers, Message

ROOT = "r00t"


def event(kind: str, second: int, **fields: Any) -> Message:
    fields.setdefault("rootOpId", ROOT)
    if "data" in fields:
        import base64

        fields["data"] = base64.b64encode(fields["data"].encode()).decode()
    document = {kind: fields, "timestamp": f"2024-01-01T00:00:{second:02d}Z"}
    return Message.parse("scenario", "", json.dumps(document))


def container(second: int, kind: str, name: str, **fields: Any) -> Message:
    base = {"containerId": name, "imageRef": "img", "pkgRef": "/p"}
    return event(kind, second, **base, **fields)


def ordering_events() -> list[Message]:
    """conformance-ordering as a correct node reports it."""
    return [
        event("opStarted", 1, opId=ROOT, pkgRef="/p/ordering"),
        container(2, "containerStarted", "a"), container(3, "containerStarted", "b"),
        container(4, "containerStdOutWrittenTo", "a", data="parallel-a\n"),
        container(5, "containerStdOutWrittenTo", "b", data="parallel-b\n"),
        container(6, "containerExited", "a", exitCode=0), container(7, "containerExited", "b", exitCode=0),
        event("parallelCallEnded", 8, callId="p"),
        event("opStarted", 9, opId="nested", pkgRef="conformance-quick"),
        container(10, "containerStarted", "n"), container(11, "containerStdOutWrittenTo", "n", data="hello nested\n"),
        container(12, "containerExited", "n", exitCode=0),
        event("opEnded", 13, opId="nested", pkgRef="conformance-quick", outcome="SUCCEEDED"),
        event("serialCallEnded", 14, callId="s"),
        event("opEnded", 15, opId=ROOT, pkgRef="/p/ordering", outcome="SUCCEEDED"),
    ]


def failing_events() -> list[Message]:
    return [event("opStarted", 20, opId=ROOT, pkgRef="/p/fails"), container(21, "containerStarted", "f"),
            container(22, "containerExited", "f", exitCode=3),
            event("opErred", 23, opId=ROOT, pkgRef="/p/fails", msg="nonzero container exit code"),
            event("opEnded", 24, opId=ROOT, pkgRef="/p/fails", outcome="FAILED")]


def run_of(messages: list[Message], after_end: list[Message] | None = None) -> OpRun:
    start = Exchange("scenario", "POST", "/ops/starts", "/ops/starts", {}, None, 201, Headers([]), ROOT.encode())
    return OpRun(ROOT, start, messages, after_end or [])


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    packages = SuitePackages(tmp_path, "{path}", {}, b"canary", has_symlink=False)
    return Context(Config(url="http://127.0.0.1:9"), "http://127.0.0.1:9", packages, None, "no engine")


def feed(monkeypatch: pytest.MonkeyPatch, ordering: list[Message] | None = None, failing: list[Message] | None = None,
         after_end: list[Message] | None = None) -> None:
    monkeypatch.setattr(events_stream, "ordering_run", lambda _: run_of(ordering or ordering_events(), after_end))
    monkeypatch.setattr(events_stream, "failing_run", lambda _: run_of(failing or failing_events()))


def outcome(ctx: Context, check_id: str) -> tuple[Outcome, str]:
    result = run_check(REGISTRY[check_id], ctx)
    return result.outcome, result.message


ORDER_CHECKS = ("events.stream.op-started-first", "events.stream.op-ended-last",
                "events.stream.op-erred-before-failed", "events.stream.calls-ended-after-children")


def test_a_correct_stream_passes_every_ordering_check(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    feed(monkeypatch)
    assert {check: outcome(ctx, check)[0] for check in ORDER_CHECKS} == dict.fromkeys(ORDER_CHECKS, Outcome.PASS)


def moved(messages: list[Message], source: int, target: int) -> list[Message]:
    messages = list(messages)
    messages.insert(target, messages.pop(source))
    return messages


@pytest.mark.parametrize(("ordering", "after_end", "failing_check", "message"), [
    (moved(ordering_events(), 10, 8), None, "events.stream.op-started-first",
     "its container n has events before its opStarted"),
    (moved(ordering_events(), 0, 1), None, "events.stream.op-started-first", "not its opStarted"),
    (moved(ordering_events(), 3, 1), None, "events.stream.op-started-first", "comes before its containerStarted"),
    (ordering_events(), [container(16, "containerStdOutWrittenTo", "a", data="late\n")],
     "events.stream.op-ended-last", "came after its opEnded"),
    (moved(ordering_events(), 5, 3), None, "events.stream.op-ended-last", "comes after its containerExited"),
    (moved(ordering_events(), 12, 11), None, "events.stream.op-ended-last", "has events after its opEnded"),
    (moved(ordering_events(), 7, 5), None, "events.stream.calls-ended-after-children",
     "has events after parallelCallEnded"),
    (moved(ordering_events(), 13, 12), None, "events.stream.calls-ended-after-children",
     "comes after the serial call's serialCallEnded"),
])
def test_each_ordering_violation_fails_its_check_only(ctx: Context, monkeypatch: pytest.MonkeyPatch,
                                                      ordering: list[Message], after_end: list[Message] | None,
                                                      failing_check: str, message: str) -> None:
    feed(monkeypatch, ordering=ordering, after_end=after_end)
    results = {check: outcome(ctx, check) for check in ORDER_CHECKS}
    assert {check for check, (result, _) in results.items() if result is not Outcome.PASS} == {failing_check}
    assert results[failing_check][0] is Outcome.FAIL and message in results[failing_check][1]


def test_op_erred_must_come_right_before_op_ended_failed(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    feed(monkeypatch, failing=moved(failing_events(), 3, 2))
    assert outcome(ctx, "events.stream.op-erred-before-failed") == (
        Outcome.FAIL, "the event before opEnded FAILED is containerExited containerId=f exitCode=3, expected the "
                      "op's opErred")
    feed(monkeypatch, failing=[m for m in failing_events() if "opErred" not in m.document])
    assert outcome(ctx, "events.stream.op-erred-before-failed")[0] is Outcome.FAIL


def feed_replay(monkeypatch: pytest.MonkeyPatch, *joined: list[Message]) -> None:
    """The replay scenario: the complete ordering run, and streams that joined it getting ``joined``."""
    complete = ordering_events()
    streams = [JoinedStream("since=x", messages) for messages in joined]
    monkeypatch.setattr(events_stream, "replay_run", lambda _: ReplayRun(ROOT, complete, streams))


def test_a_gap_in_any_joined_stream_fails_replay_then_live(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    feed_replay(monkeypatch, ordering_events(), ordering_events()[:6] + ordering_events()[7:], ordering_events())
    result, message = outcome(ctx, "events.stream.replay-then-live")
    assert result is Outcome.FAIL
    assert "stream 2 of 3 (?since=x): missing: containerExited containerId=b exitCode=0" in message
    assert outcome(ctx, "events.stream.no-duplicates")[0] is Outcome.PASS


def test_a_duplicate_in_any_joined_stream_fails_no_duplicates_but_is_no_gap(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    events = ordering_events()
    feed_replay(monkeypatch, ordering_events(), ordering_events(), events[:6] + [events[5]] + events[6:])
    assert outcome(ctx, "events.stream.replay-then-live")[0] is Outcome.PASS
    result, message = outcome(ctx, "events.stream.no-duplicates")
    assert result is Outcome.FAIL
    assert "stream 3 of 3 joined mid-run (?since=x): sent twice: containerExited containerId=a" in message


def test_the_same_events_in_another_order_name_the_first_difference(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    events = ordering_events()
    feed_replay(monkeypatch, events[:3] + [events[4], events[3]] + events[5:])
    result, message = outcome(ctx, "events.stream.replay-then-live")
    assert result is Outcome.FAIL
    assert "in a different order: event 4 is containerStdOutWrittenTo containerId=b" in message


def test_messages_are_judged_against_the_event_schema(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    feed(monkeypatch)
    ctx.messages.extend(ordering_events())
    assert outcome(ctx, "events.stream.messages-match-spec")[0] is Outcome.PASS
    ctx.messages.append(Message.parse("some.check", "", '{"opEnded": {"outcome": "DONE"}, "timestamp": "now"}'))
    ctx.messages.append(Message.parse("some.check", "", "not json"))
    result, message = outcome(ctx, "events.stream.messages-match-spec")
    assert result is Outcome.FAIL and message.startswith("2 messages are not valid Events")
    assert "[some.check] not JSON" in message and "'DONE' is not one of" in message


def test_missing_fields_fail_fields_complete(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    feed(monkeypatch)
    ctx.messages.append(event("opStarted", 1, opId=ROOT))
    result, message = outcome(ctx, "events.stream.fields-complete")
    assert result is Outcome.FAIL and "opStarted lacks pkgRef" in message


def test_every_check_quotes_a_clause_and_is_named_for_its_endpoint() -> None:
    prefixes = {"liveness": "liveness.", "ops/starts": "ops.starts.", "ops/kills": "ops.kills.",
                "events/stream": "events.stream.", "pkgs contents": "pkgs.contents."}
    for check in all_checks():
        assert check.id.startswith(prefixes[check.endpoint.value]), check.id
        assert '"' in check.clause.text or "'" in check.clause.text, f"{check.id} quotes nothing"
        assert check.title and check.profiles == ("0.1.5",)


def test_a_check_only_the_reference_speaks_for_cannot_be_must() -> None:
    with pytest.raises(ValueError, match="only the reference's behaviour speaks for it"):
        registry.check("liveness.made-up", endpoint=Endpoint.LIVENESS, level=Level.MUST, title="made up",
              clause=Clause("'x'", "SEMANTICS §9", reference_only=True))
    assert "liveness.made-up" not in REGISTRY
    assert [c.id for c in all_checks() if c.clause.reference_only and c.level is Level.MUST] == []
