"""An event's API JSON, exactly as the node sends it on the stream and replays it from the store.

Output events (one per line a container writes) are most events by far, and within one container only
their data and timestamp vary: their JSON is built from a cached head and tail around the base64 data, and
the store keeps only the raw data and the timestamp (``OutputSource`` once per container stream). Both go
through ``output_payload``, so a replay sends the same bytes as the live stream did.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import NamedTuple

from .model import Event, EventType, format_timestamp

OUTPUT_TYPES = frozenset({EventType.CONTAINER_STDOUT_WRITTEN_TO, EventType.CONTAINER_STDERR_WRITTEN_TO})


class OutputSource(NamedTuple):
    """What every output event of one container stream has in common."""

    type: str  # containerStdOutWrittenTo or containerStdErrWrittenTo
    image_ref: str
    root_op_id: str
    container_id: str
    pkg_ref: str


def split_output(event: Event) -> tuple[OutputSource, bytes] | None:
    """The source and data of an output event with every field set (else None: it is sent as plain JSON)."""
    if (event.type not in OUTPUT_TYPES or event.data is None or event.image_ref is None or event.container_id is None
            or event.pkg_ref is None):
        return None
    source = OutputSource(event.type.value, event.image_ref, event.root_op_id, event.container_id, event.pkg_ref)
    return source, event.data


def event_payload(event: Event) -> bytes:
    """``Event.to_json()`` compactly encoded (fields in EVENT_FIELDS order)."""
    output = split_output(event)
    if output is not None:
        return output_payload(*output, event.timestamp_ns)
    return json.dumps(event.to_json(), separators=(",", ":")).encode()


def output_payload(source: OutputSource, data: bytes, timestamp_ns: int) -> bytes:
    head, tail = _output_parts(source)
    return b"".join((head, base64.b64encode(data), tail, format_timestamp(timestamp_ns).encode(), b'"}'))


@functools.lru_cache(maxsize=1024)
def _output_parts(source: OutputSource) -> tuple[bytes, bytes]:
    """The JSON before and after the base64 data of an output event (up to the timestamp's text)."""
    text = json.dumps
    head = f'{{"{source.type}":{{"imageRef":{text(source.image_ref)},"data":"'
    tail = (f'","rootOpId":{text(source.root_op_id)},"containerId":{text(source.container_id)},'
            f'"pkgRef":{text(source.pkg_ref)}}},"timestamp":"')
    return head.encode(), tail.encode()
