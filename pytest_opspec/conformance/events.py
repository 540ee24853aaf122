"""Reading events as the node sent them (JSON objects), without trusting their shape.

Checks look at raw event documents; these helpers return None instead of raising when a field is
missing or mistyped, so one malformed event fails the check that judges shapes
(``events.stream.messages-match-spec``) and not every check that happens to read it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Iterable

from ..events.model import parse_timestamp

from .transport import Message

EVENT_TYPES = (
    "containerExited", "containerStarted", "containerStdErrWrittenTo", "containerStdOutWrittenTo",
    "opEnded", "opStarted", "opErred", "parallelCallEnded", "serialCallEnded",
)
OUTPUT_TYPES = ("containerStdOutWrittenTo", "containerStdErrWrittenTo")
CONTAINER_TYPES = ("containerStarted", *OUTPUT_TYPES, "containerExited")
EPOCH = "1970-01-01T00:00:00Z"


def event_type(document: Any) -> str | None:
    """The event's type key when it has exactly one."""
    if not isinstance(document, dict):
        return None
    found = [key for key in EVENT_TYPES if isinstance(document.get(key), dict)]
    return found[0] if len(found) == 1 else None


def body(document: Any) -> dict[str, Any]:
    kind = event_type(document)
    return document[kind] if kind else {}


def field(document: Any, name: str) -> Any:
    return body(document).get(name)


def root_of(message: Message) -> Any:
    return field(message.document, "rootOpId")


def timestamp_ns(document: Any) -> int | None:
    text = document.get("timestamp") if isinstance(document, dict) else None
    if not isinstance(text, str):
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        return None


def output_text(document: Any) -> str:
    """The decoded ``data`` of an output event ("" for other events or undecodable data)."""
    if event_type(document) not in OUTPUT_TYPES:
        return ""
    data = field(document, "data")
    if not isinstance(data, str):
        return ""
    try:
        return base64.b64decode(data, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return data


def is_op_ended(message: Message, op_id: str) -> bool:
    return event_type(message.document) == "opEnded" and field(message.document, "opId") == op_id


def of_root(messages: Iterable[Message], root_id: str) -> list[Message]:
    return [message for message in messages if root_of(message) == root_id]


def describe(message: Message) -> str:
    """A short line naming the event: its type and identifying fields."""
    kind = event_type(message.document)
    if kind is None:
        return message.excerpt(120)
    fields = body(message.document)
    shown: dict[str, Any] = {key: fields[key] for key in ("opId", "containerId", "callId", "outcome", "exitCode")
                             if key in fields}
    text = output_text(message.document).strip()
    if text:
        shown["data"] = text[:40]
    return f"{kind} " + " ".join(f"{key}={value}" for key, value in shown.items())
