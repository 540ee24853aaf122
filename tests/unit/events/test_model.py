"""The Event model's JSON encoding against the node API document (seed 000)."""

from __future__ import annotations

import pytest

from pytest_opspec.events import Event, EventType, Outcome, format_timestamp, parse_timestamp
from pytest_opspec.conformance.openapi import schema_errors
from pytest_opspec.values import Value

EXAMPLES = [
    Event(EventType.CONTAINER_STARTED, "r", container_id="c", image_ref="alpine", pkg_ref="/p"),
    Event(EventType.CONTAINER_STDOUT_WRITTEN_TO, "r", container_id="c", image_ref="a", pkg_ref="/p", data=b"hi\n"),
    Event(EventType.CONTAINER_STDERR_WRITTEN_TO, "r", container_id="c", image_ref="a", pkg_ref="/p", data=b"\xff"),
    Event(EventType.CONTAINER_EXITED, "r", container_id="c", image_ref="a", pkg_ref="/p", exit_code=3,
          outputs={"f": Value.file("/x"), "e": Value.array([])}),
    Event(EventType.OP_STARTED, "r", op_id="o", pkg_ref="/p"),
    Event(EventType.OP_ERRED, "r", op_id="o", pkg_ref="/p", msg="boom"),
    Event(EventType.OP_ENDED, "r", op_id="o", pkg_ref="/p", outcome=Outcome.FAILED),
    Event(EventType.OP_ENDED, "r", op_id="o", pkg_ref="/p", outcome=Outcome.SUCCEEDED, outputs={"n": Value.number(2)}),
    Event(EventType.PARALLEL_CALL_ENDED, "r", call_id="k"),
    Event(EventType.SERIAL_CALL_ENDED, "r", call_id="k", outputs={"o": Value.object({})}),
]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.type.value)
def test_every_event_type_validates_against_the_api_document(event: Event) -> None:
    document = event.to_json()
    assert schema_errors("Event", document) == []
    assert set(document) == {event.type.value, "timestamp"}
    decoded = Event.from_json(document)
    assert decoded.to_json() == document


def test_unset_fields_are_left_out_rather_than_null() -> None:
    body = Event(EventType.OP_ENDED, "r", op_id="o", pkg_ref="/p", outcome=Outcome.KILLED).to_json()["opEnded"]
    assert body == {"rootOpId": "r", "opId": "o", "pkgRef": "/p", "outcome": "KILLED"}


def test_data_is_base64_and_exit_code_an_integer() -> None:
    out = EXAMPLES[1].to_json()["containerStdOutWrittenTo"]
    assert out["data"] == "aGkK"
    assert EXAMPLES[3].to_json()["containerExited"]["exitCode"] == 3


def test_the_api_document_rejects_malformed_events() -> None:
    assert schema_errors("Event", {"timestamp": "2024-01-01T00:00:00Z"})  # no type key
    assert schema_errors("Event", {"opStarted": {}, "opEnded": {}, "timestamp": "2024-01-01T00:00:00Z"})
    assert schema_errors("Event", {"opStarted": {}, "timestamp": "yesterday"})
    assert schema_errors("Event", {"opEnded": {"outcome": "DONE"}, "timestamp": "2024-01-01T00:00:00Z"})
    assert schema_errors("Event", {"containerExited": {"exitCode": 1.5}, "timestamp": "2024-01-01T00:00:00Z"})


@pytest.mark.parametrize("text, expected", [
    ("2024-01-31T12:00:00Z", "2024-01-31T12:00:00Z"),
    ("2024-01-31T12:00:00.5Z", "2024-01-31T12:00:00.5Z"),
    ("2024-01-31T13:00:00.123456789+01:00", "2024-01-31T12:00:00.123456789Z"),
    ("2024-01-31t12:00:00z", "2024-01-31T12:00:00Z"),
])
def test_timestamps_round_trip_in_utc_with_nanoseconds(text: str, expected: str) -> None:
    assert format_timestamp(parse_timestamp(text)) == expected


@pytest.mark.parametrize("text", ["2024-01-31", "2024-01-31T12:00:00", "2024-13-01T00:00:00Z", "now", ""])
def test_invalid_timestamps_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="RFC 3339|valid date-time"):
        parse_timestamp(text)


def test_value_schema_needs_exactly_one_type_key() -> None:
    assert schema_errors("Value", {"string": "x"}) == []
    assert schema_errors("Value", {"array": []}) == []
    assert schema_errors("Value", {})
    assert schema_errors("Value", {"string": "x", "number": 1})
    assert schema_errors("Value", {"number": "1"})
