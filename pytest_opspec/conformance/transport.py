"""Raw HTTP and WebSocket exchanges with the node under test, recorded for the spec checks.

HTTP goes through ``http.client`` rather than ``requests``: urllib3 re-quotes percent-escapes
(``%2e`` becomes ``.``) and removes dot segments, and the traversal and fuzzing checks must send
exactly the target they mean. Nothing here interprets an answer: a check sees the status, headers
and bytes the node sent. A node that does not answer in time or drops the connection fails the
check that asked (``CheckFailed``).
"""

from __future__ import annotations

import base64
import functools
import http.client
import json
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from ..node.tls import ClientTLS
from .registry import CheckFailed

# Largest event message accepted; far above anything the suite's ops produce.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
# Largest HTTP body read; a declared length beyond it is broken framing (the suite's files are small).
MAX_BODY_BYTES = 64 * 1024 * 1024
# Seconds a WebSocket close handshake may take (a node that never answers costs this much per stream).
CLOSE_TIMEOUT = 1.0


class Headers:
    """Response headers in the order received; names compare case-insensitively."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self.items = list(items)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.get_all(name)
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.items if key.lower() == wanted]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_all(name))

    def to_json(self) -> list[list[str]]:
        return [[key, value] for key, value in self.items]


@dataclass
class Exchange:
    """One request and the node's answer."""

    check_id: str
    method: str
    template: str  # the API path it addresses, as the API document writes it
    target: str  # the request target exactly as sent
    request_headers: Mapping[str, str]
    request_body: bytes | None
    status: int
    headers: Headers
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ("" when absent)."""
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def describe(self) -> str:
        return f"{self.method} {self.target} -> {self.status}"

    def excerpt(self, limit: int = 200) -> str:
        """The body on one line, shortened; binary bodies only by their size."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return f"({len(self.body)} bytes of binary data)"
        if any(ord(character) < 32 and not character.isspace() for character in text):
            return f"({len(self.body)} bytes of binary data)"
        text = " ".join(text.split())
        return text if len(text) <= limit else text[:limit] + "..."


@dataclass
class Message:
    """One WebSocket message as received: text, or bytes for a binary frame."""

    check_id: str
    query: str
    data: str | bytes
    received_at: float = field(default_factory=time.monotonic)
    document: Any = None  # the parsed JSON (None when it is not JSON)
    parse_error: str | None = None

    @classmethod
    def parse(cls, check_id: str, query: str, data: str | bytes) -> Message:
        message = cls(check_id, query, data)
        try:
            text = data if isinstance(data, str) else data.decode("utf-8")
            message.document = json.loads(text)
        except (UnicodeDecodeError, ValueError) as error:
            message.parse_error = f"not JSON ({error})"
        return message

    @functools.cached_property
    def key(self) -> str:
        """The message's identity for comparing streams: the same event, re-serialized, compares equal."""
        if self.parse_error:
            return repr(self.data)
        return json.dumps(self.document, sort_keys=True)

    @property
    def event(self) -> dict[str, Any] | None:
        return self.document if isinstance(self.document, dict) else None

    def excerpt(self, limit: int = 200) -> str:
        text = self.data if isinstance(self.data, str) else repr(self.data)
        return text if len(text) <= limit else text[:limit] + "..."


class Node:
    """The node's base URL, split for raw connections; credentials in it become Basic auth; ``tls``
    (CA and client certificate) is used for an https:// node."""

    def __init__(self, url: str, tls: ClientTLS | None = None) -> None:
        parts = urlsplit(url)
        self.url = url
        self.secure = parts.scheme == "https"
        self.ssl_context = tls.context() if self.secure and tls is not None else None
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.secure else 80)
        self.prefix = parts.path.rstrip("/")
        self.auth: dict[str, str] = {}
        if parts.username is not None:
            token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self.auth = {"Authorization": "Basic " + base64.b64encode(token).decode("ascii")}
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        self.ws_base = f"{'wss' if self.secure else 'ws'}://{netloc}:{self.port}{self.prefix}"

    def connection(self, timeout: float) -> http.client.HTTPConnection:
        if self.secure:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.ssl_context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


class Http:
    """Sends requests to the node and hands every exchange to ``record``."""

    def __init__(self, node: Node, timeout: float, record: Callable[[Exchange], None],
                 check_id: Callable[[], str]) -> None:
        self.node = node
        self.timeout = timeout
        self._record = record
        self._check_id = check_id

    def request(self, method: str, target: str, *, template: str, headers: Mapping[str, str] | None = None,
                body: bytes | None = None, timeout: float | None = None) -> Exchange:
        """``target`` is sent as is (after the base URL's path); ``template`` names the API path."""
        wait = timeout or self.timeout
        sent_headers = {**self.node.auth, **(headers or {})}
        connection = self.node.connection(wait)
        where = f"{method} {target}"
        try:
            connection.request(method, self.node.prefix + target, body=body, headers=sent_headers)
            response = connection.getresponse()
            if response.length is not None and response.length > MAX_BODY_BYTES:
                raise CheckFailed(f"{where} -> {response.status}: the answer declares Content-Length "
                                  f"{response.length}, far beyond any file of the suite's (broken framing)")
            data = response.read()
        except TimeoutError:
            raise CheckFailed(f"{where}: the node did not answer within {wait:g} s") from None
        # A node's broken framing is its failure: http.client lets OverflowError (a chunk size beyond
        # what a read can take) and ValueError escape besides its own exceptions.
        except (OSError, http.client.HTTPException, OverflowError, ValueError) as error:
            raise CheckFailed(f"{where}: the connection failed before a complete answer "
                              f"({type(error).__name__}: {error})") from None
        finally:
            connection.close()
        exchange = Exchange(self._check_id(), method, template, target, sent_headers, body, response.status,
                            Headers(response.getheaders()), data)
        self._record(exchange)
        return exchange


class StreamRefused(Exception):
    """The node answered the WebSocket handshake with something other than 101."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(exchange.describe())
        self.exchange = exchange


class EventStream:
    """``GET /events/stream`` upgraded to a WebSocket; every message received is recorded."""

    TEMPLATE = "/events/stream"

    def __init__(self, node: Node, query: str, timeout: float, record_exchange: Callable[[Exchange], None],
                 record_message: Callable[[Message], None], check_id: str) -> None:
        self.query = query
        self.timeout = timeout
        self._record_message = record_message
        self._check_id = check_id
        target = self.TEMPLATE + (f"?{query}" if query else "")
        try:
            # Entered as a context manager: the one form every websockets version supports without warning.
            self.connection: ClientConnection = ExitStack().enter_context(connect(
                node.ws_base + target, open_timeout=timeout, close_timeout=CLOSE_TIMEOUT, compression=None,
                max_size=MAX_MESSAGE_BYTES, ping_interval=None, additional_headers=node.auth or None,
                # Unbounded: a full queue stops reading, and a close frame behind unread events would
                # then never arrive (streams here are short-lived).
                max_queue=None, ssl=node.ssl_context))
        except InvalidStatus as refused:
            answer = refused.response
            exchange = Exchange(check_id, "GET", self.TEMPLATE, target, dict(node.auth), None, answer.status_code,
                                Headers(answer.headers.raw_items()), bytes(answer.body or b""))
            record_exchange(exchange)
            raise StreamRefused(exchange) from None
        except (OSError, InvalidHandshake, TimeoutError) as error:
            raise CheckFailed(f"GET {target}: the WebSocket handshake failed ({type(error).__name__}: {error})") \
                from None
        handshake = self.connection.response
        assert handshake is not None  # set once connect() returned
        self.handshake = Exchange(check_id, "GET", self.TEMPLATE, target, dict(node.auth), None,
                                  handshake.status_code, Headers(handshake.headers.raw_items()),
                                  bytes(handshake.body or b""))
        record_exchange(self.handshake)

    def receive(self, timeout: float) -> Message | None:
        """The next message, or None when none came within ``timeout``; raises CheckFailed when the
        node closed the stream."""
        try:
            data = self.connection.recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as closed:
            received = closed.rcvd
            how = f"code {received.code}{' ' + received.reason if received.reason else ''}" if received \
                else "without a close frame"
            raise CheckFailed(f"the node closed the event stream ?{self.query} ({how})") from None
        message = Message.parse(self._check_id, self.query, data)
        self._record_message(message)
        return message

    def read_until(self, done: Callable[[Message], bool], what: str, timeout: float | None = None) -> list[Message]:
        """Messages up to and including the first for which ``done`` is true."""
        deadline = time.monotonic() + (timeout or self.timeout)
        messages: list[Message] = []
        while True:
            remaining = deadline - time.monotonic()
            message = self.receive(remaining) if remaining > 0 else None
            if message is None:
                raise CheckFailed(f"no {what} on the event stream ?{self.query} within {timeout or self.timeout:g} s"
                                  f" ({len(messages)} messages received)")
            messages.append(message)
            if done(message):
                return messages

    def read_for(self, seconds: float) -> list[Message]:
        """Whatever arrives within ``seconds``."""
        deadline = time.monotonic() + seconds
        messages: list[Message] = []
        while (remaining := deadline - time.monotonic()) > 0:
            message = self.receive(remaining)
            if message is None:
                break
            messages.append(message)
        return messages

    def close(self) -> None:
        try:
            self.connection.close()
        except (OSError, ConnectionClosed):
            pass

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
