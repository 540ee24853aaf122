"""GET /events/stream: a WebSocket sending one event (the seed's Event JSON) per text message.

``since`` (RFC 3339, any offset, inclusive) and ``roots`` (comma-separated, or repeated) are checked
before the upgrade, so a bad value gets a 400 with a JSON body. Stored events are replayed, then live
ones follow with no gap and no duplicate (see events/broker.py). The session answers pings and the
client's close; it pings the client itself, and a slow consumer is closed with code 1013 and a reason
saying where to resume.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from typing import TYPE_CHECKING, Iterator, Mapping
from urllib.parse import parse_qs

from aiohttp import web

from ..events.broker import BrokerClosedError, SlowConsumerError, Subscription
from ..events.store import Record
from ..events.model import format_timestamp, parse_timestamp
from .errors import ApiError, Code
from .routing import Route

if TYPE_CHECKING:
    from .core import Node

log = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 1001
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013
# Bytes written to the socket per write call, and the send buffer above which the sender waits.
WRITE_GROUP_BYTES = 256 * 1024
WRITE_BUFFER_LIMIT = 1024 * 1024
# Seconds between checks of a full send buffer (asyncio offers no public "drained" signal).
DRAIN_POLL = 0.005
# Seconds for the close handshake (the client first reads what is buffered) before dropping the connection.
CLOSE_TIMEOUT = 30.0


def parse_filters(raw_query: str) -> tuple[int | None, frozenset[str]]:
    """``since`` in ns (or None) and the set of root op ids (empty: all) from the raw query string."""
    query = parse_qs(raw_query, keep_blank_values=True)
    since_ns = None
    since = next((value for value in query.get("since", []) if value), None)
    if since is not None:
        try:
            # An unencoded "+hh:mm" offset arrives as a space (form decoding); a timestamp has no spaces.
            since_ns = parse_timestamp(since.replace(" ", "+"))
        except ValueError as error:
            raise ApiError(400, Code.INVALID_SINCE, f"since: {error}") from None
        # Stored timestamps are 64-bit ns (years 1678 to 2262); RFC 3339 goes from 0001 to 9999.
        since_ns = min(max(since_ns, -(2**63)), 2**63 - 1)
    roots = frozenset(root.strip() for value in query.get("roots", []) for root in value.split(",") if root.strip())
    return since_ns, roots


async def stream_events(request: web.Request, node: Node, params: Mapping[str, str]) -> web.StreamResponse:
    _, _, raw_query = request.raw_path.partition("?")
    since_ns, roots = parse_filters(raw_query)
    socket = web.WebSocketResponse(heartbeat=node.settings.heartbeat, compress=False, max_msg_size=1024 * 1024,
                                   timeout=CLOSE_TIMEOUT)
    if not socket.can_prepare(request).ok:
        raise ApiError(400, Code.NOT_A_WEBSOCKET,
                       "GET /events/stream upgrades to a WebSocket; send Connection: Upgrade, Upgrade: websocket "
                       "and the Sec-WebSocket-* headers")
    session = EventSession(node, socket)
    await session.run(request, since_ns, roots)
    return socket


class EventSession:
    """One WebSocket subscriber: a sender task (events out) and a reader task (pings, close in)."""

    def __init__(self, node: Node, socket: web.WebSocketResponse) -> None:
        self.node = node
        self.socket = socket
        self.subscription: Subscription | None = None
        self._sender: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None

    async def run(self, request: web.Request, since_ns: int | None, roots: frozenset[str]) -> None:
        await self.socket.prepare(request)
        transport = request.transport
        if transport is None:
            return  # the client is already gone
        self.node.sessions.add(self)
        try:
            try:
                self.subscription = await self.node.broker.subscribe(since_ns, roots, on_slow=self._on_slow)
            except BrokerClosedError:
                await self.close(CLOSE_GOING_AWAY, "the node is shutting down")
                return
            except Exception:  # after the upgrade no error response can be sent: close, or the client waits
                log.exception("subscribing an event stream failed")
                await self.close(CLOSE_INTERNAL_ERROR, "internal error; see the node's log")
                return
            self._sender = asyncio.create_task(self._send(self.subscription, transport))
            self._reader = asyncio.create_task(self._read())
            await asyncio.wait({self._sender, self._reader}, return_when=asyncio.FIRST_COMPLETED)
            if self._closing is None and not self._reader.done():
                await self._end_of_sending(self._sender)
            if self._closing is not None:
                await self._closing
        finally:
            tasks = [task for task in (self._sender, self._reader) if task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.subscription is not None:
                self.subscription.close()
            self.node.sessions.discard(self)

    async def _send(self, subscription: Subscription, transport: asyncio.BaseTransport) -> None:
        # Frames go straight to the transport, many per write: one aiohttp send_frame (a system call)
        # per event made the event loop the bottleneck of a busy stream (benchmarks/node_events.py).
        # Only whole frames are ever written, so aiohttp's own pings, pongs and close frames, written
        # through the same transport, cannot interleave with them.
        assert isinstance(transport, asyncio.WriteTransport)
        while True:
            batch = await subscription.next_batch()
            for group in _groups(batch):
                if transport.is_closing():
                    raise ConnectionResetError("the client went away")
                # Noted first: a cancellation (slow consumer) can only come in the drain below, and
                # by then the whole group is in the transport's buffer.
                subscription.sent(group[-1])
                transport.write(b"".join(part for record in group
                                         for part in (_text_frame_header(record), record.payload)))
                while transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
                    if transport.is_closing():
                        raise ConnectionResetError("the client went away")
                    await asyncio.sleep(DRAIN_POLL)

    async def _read(self) -> None:
        # Iterating answers pings (autoping) and the client's close frame (autoclose); events only flow
        # out, so whatever the client sends is ignored.
        async for _ in self.socket:
            pass

    async def _end_of_sending(self, sender: asyncio.Task[None]) -> None:
        """The sender stopped first: say why to the client."""
        error = sender.exception() if not sender.cancelled() else None
        subscription = self.subscription
        if subscription is not None and subscription.slow is not None:
            await self.close(CLOSE_TRY_AGAIN_LATER, _slow_reason(subscription.slow))
        elif isinstance(error, BrokerClosedError):
            await self.close(CLOSE_GOING_AWAY, "the node is shutting down")
        elif error is not None and not isinstance(error, (ConnectionError, OSError)):
            log.error("event stream failed", exc_info=error)
            await self.close(CLOSE_INTERNAL_ERROR, "internal error; see the node's log")

    def _on_slow(self, slow: SlowConsumerError) -> None:
        # The sender may be blocked writing to a client that does not read: stop it from outside.
        if self._sender is not None:
            self._sender.cancel()

    def close(self, code: int, reason: str, timeout: float = CLOSE_TIMEOUT) -> asyncio.Task[None]:
        """Close the socket with ``code`` and ``reason`` (once; later calls share the first)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close(code, reason, timeout))
        return self._closing

    async def _close(self, code: int, reason: str, timeout: float) -> None:
        # Stop reading too: aiohttp then waits for the client's close frame itself instead of dropping
        # the connection at once, so a client still reading buffered events also gets the close frame.
        tasks = [task for task in (self._sender, self._reader) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(self.socket.close(code=code, message=reason.encode()[:123]), timeout)
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass  # the client went away or does not read; the transport is closed either way

    def caught_up(self) -> bool:
        subscription = self.subscription
        return subscription is None or subscription.cursor >= self.node.broker.head


def _groups(records: list[Record]) -> Iterator[list[Record]]:
    """Consecutive records of at most WRITE_GROUP_BYTES each (at least one record)."""
    group: list[Record] = []
    size = 0
    for record in records:
        group.append(record)
        size += len(record.payload)
        if size >= WRITE_GROUP_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _text_frame_header(record: Record) -> bytes:
    """An unmasked, final text frame header (RFC 6455 §5.2) for the record's payload."""
    length = len(record.payload)
    if length < 126:
        return struct.pack("!BB", 0x81, length)
    if length < 65536:
        return struct.pack("!BBH", 0x81, 126, length)
    return struct.pack("!BBQ", 0x81, 127, length)


def _slow_reason(slow: SlowConsumerError) -> str:
    reason = f"slow consumer: fell {slow.lag} events behind"
    if slow.resume_ns is not None:
        reason += f"; resume with since={format_timestamp(slow.resume_ns)}"
    return reason


ROUTE = Route("/events/stream", {"GET": stream_events})
