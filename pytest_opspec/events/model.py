"""The node API's Event model (seed 000, components/schemas/Event) and its JSON encoding.

base64 and datetime are imported where an event is encoded or a timestamp formatted: `opspec run` does
neither for its own events."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Mapping

from ..runtime.exits import ContainerExit
from ..values import Value


class EventType(StrEnum):
    CONTAINER_EXITED = "containerExited"
    CONTAINER_STARTED = "containerStarted"
    CONTAINER_STDERR_WRITTEN_TO = "containerStdErrWrittenTo"
    CONTAINER_STDOUT_WRITTEN_TO = "containerStdOutWrittenTo"
    OP_ENDED = "opEnded"
    OP_STARTED = "opStarted"
    OP_ERRED = "opErred"
    PARALLEL_CALL_ENDED = "parallelCallEnded"
    SERIAL_CALL_ENDED = "serialCallEnded"


class Outcome(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    KILLED = "KILLED"


# The JSON fields each event type carries, as the seed lists them (unset ones are left out).
EVENT_FIELDS: dict[EventType, tuple[str, ...]] = {
    EventType.CONTAINER_EXITED: ("imageRef", "exitCode", "rootOpId", "containerId", "pkgRef", "outputs"),
    EventType.CONTAINER_STARTED: ("imageRef", "rootOpId", "containerId", "pkgRef"),
    EventType.CONTAINER_STDERR_WRITTEN_TO: ("imageRef", "data", "rootOpId", "containerId", "pkgRef"),
    EventType.CONTAINER_STDOUT_WRITTEN_TO: ("imageRef", "data", "rootOpId", "containerId", "pkgRef"),
    EventType.OP_ERRED: ("rootOpId", "msg", "opId", "pkgRef"),
    EventType.OP_ENDED: ("rootOpId", "opId", "pkgRef", "outcome", "outputs"),
    EventType.OP_STARTED: ("rootOpId", "opId", "pkgRef"),
    EventType.PARALLEL_CALL_ENDED: ("rootOpId", "callId"),
    EventType.SERIAL_CALL_ENDED: ("rootOpId", "callId", "outputs"),
}

_ATTRIBUTE_OF = {
    "imageRef": "image_ref", "exitCode": "exit_code", "rootOpId": "root_op_id",
    "containerId": "container_id", "pkgRef": "pkg_ref", "outputs": "outputs", "data": "data",
    "msg": "msg", "opId": "op_id", "outcome": "outcome", "callId": "call_id",
}


@dataclass(frozen=True, slots=True)
class Event:
    """One event. Only the fields of its type are meaningful (see EVENT_FIELDS).

    ``seq`` is assigned by the event bus (strictly increasing per node); ``call_path`` lists the
    call ids from the root op down to the call that published the event; ``container_exit`` (on
    containerExited) says why the container ended and what it used. None of them is part of the
    API encoding; they order, group and explain events inside this project.
    """

    type: EventType
    root_op_id: str
    timestamp_ns: int = field(default_factory=time.time_ns)
    op_id: str | None = None
    pkg_ref: str | None = None
    container_id: str | None = None
    call_id: str | None = None
    image_ref: str | None = None
    msg: str | None = None
    outcome: Outcome | None = None
    exit_code: int | None = None
    data: bytes | None = None
    outputs: Mapping[str, Value] | None = None
    seq: int = 0
    call_path: tuple[str, ...] = ()
    container_exit: ContainerExit | None = field(default=None, compare=False)

    @property
    def timestamp(self) -> str:
        return format_timestamp(self.timestamp_ns)

    def with_seq(self, seq: int) -> Event:
        return replace(self, seq=seq)

    def to_json(self) -> dict[str, Any]:
        """The seed's JSON shape. Unset fields are left out: the seed types them (e.g. `outputs` is an
        object), so a null would not validate against its Event schema."""
        body: dict[str, Any] = {}
        for name in EVENT_FIELDS[self.type]:
            value = getattr(self, _ATTRIBUTE_OF[name])
            if value is None:
                continue
            if name == "outputs":
                value = {key: v.to_json() for key, v in value.items()}
            elif name == "data":
                import base64

                value = base64.b64encode(value).decode("ascii")
            elif name == "outcome":
                value = value.value
            body[name] = value
        return {self.type.value: body, "timestamp": self.timestamp}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Event:
        """Decode an API event (as sent by any node); raises ValueError on a malformed one."""
        types = [t for t in EventType if document.get(t.value) is not None]
        if len(types) != 1:
            raise ValueError(f"an event needs exactly one type key, found {[t.value for t in types]}")
        event_type = types[0]
        body = document[event_type.value]
        if not isinstance(body, dict):
            raise ValueError(f"{event_type.value} must be an object")
        kwargs: dict[str, Any] = {}
        for name in EVENT_FIELDS[event_type]:
            value = body.get(name)
            if value is None:
                continue
            if name == "outputs":
                value = {k: Value.from_json(v, f"{event_type.value}.outputs.{k}") for k, v in value.items()}
            elif name == "data":
                import base64

                value = base64.b64decode(value)
            elif name == "outcome":
                value = Outcome(value)
            kwargs[_ATTRIBUTE_OF[name]] = value
        kwargs.setdefault("root_op_id", "")
        timestamp = document.get("timestamp")
        if timestamp is not None:
            kwargs["timestamp_ns"] = parse_timestamp(timestamp)
        return cls(type=event_type, **kwargs)


# The last whole second formatted: events come in bursts within one second, and strftime is slow.
_last_second: tuple[int, str] = (-1, "")


def format_timestamp(ns: int) -> str:
    """RFC 3339 in UTC with nanoseconds, trailing zeros trimmed (Go's RFC3339Nano)."""
    global _last_second
    seconds, fraction = divmod(ns, 1_000_000_000)
    cached_seconds, text = _last_second  # one tuple: consistent even when threads race
    if cached_seconds != seconds:
        from datetime import datetime, timezone

        text = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _last_second = (seconds, text)
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def parse_timestamp(text: str) -> int:
    """Parse RFC 3339 (any offset, up to nanosecond precision) into ns since the epoch (UTC).

    Raises ValueError with a readable message on anything else.
    """
    import re
    from datetime import datetime

    match = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})", text)
    if not match:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time (e.g. 2024-01-31T12:00:00Z)")
    date, clock, fraction, offset = match.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        moment = datetime.fromisoformat(f"{date}T{clock}{offset}")
    except ValueError as error:
        raise ValueError(f"{text!r} is not a valid date-time: {error}") from None
    nanos = int((fraction or "0").ljust(9, "0"))
    return int(moment.timestamp()) * 1_000_000_000 + nanos
