"""NodeClient: a client of the opspec node API (any node: the bundled one, opctl's, ...).

HTTP goes through ``requests``; the event stream through ``websockets``' synchronous client. Errors
the node reports raise ``NodeError`` (status, code, message); a node that cannot be reached raises
``NodeUnavailableError``; a stream the node closes early raises ``EventStreamClosedError``.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import requests
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from ..errors import BackendError, OpspecError
from ..events import Event, EventType, format_timestamp
from ..values import Value
from .tls import ClientTLS

DEFAULT_URL = "http://127.0.0.1:42224"
# Seconds a stream's close handshake may take.
CLOSE_TIMEOUT = 5.0
# Largest event message accepted (a 64 KiB output line is about 88 KB of JSON).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

Since = datetime | int | str


class NodeError(OpspecError):
    """The node answered with an error status."""

    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(f"the node answered {status}" + (f" {code}" if code else "") + f": {message}")
        self.status = status
        self.code = code
        self.message = message


class NodeUnavailableError(BackendError):
    """No node answers at the URL."""


class NodeTimeoutError(BackendError, TimeoutError):
    pass


class EventStreamClosedError(OpspecError):
    """The node closed the event stream (e.g. 1013 for a slow consumer, 1001 when it stops)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"the node closed the event stream ({code}{': ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


def _error_from(status: int, body: bytes | bytearray) -> NodeError:
    try:
        document = json.loads(body)
        if isinstance(document, dict) and isinstance(document.get("message"), str):
            return NodeError(status, document.get("code"), document["message"])
    except ValueError:
        pass
    return NodeError(status, None, body.decode("utf-8", errors="replace").strip() or "(no body)")


_TLS_REASONS = ("CERTIFICATE_VERIFY_FAILED", "TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_BAD_CERTIFICATE",
                "TLSV1_ALERT_UNKNOWN_CA", "WRONG_VERSION_NUMBER")


def _unavailable_reason(base_url: str, error: requests.ConnectionError) -> str:
    """Why a request to the node failed, in one sentence; TLS failures say which side refused."""
    text = str(error)
    if base_url.startswith("https://"):
        reason = next((marker for marker in _TLS_REASONS if marker in text), None)
        if reason == "CERTIFICATE_VERIFY_FAILED":
            return (f"the node at {base_url} presents a certificate this client does not trust ({reason}); give "
                    "the CA that signed it")
        if reason is not None:
            return f"the TLS handshake with the node at {base_url} failed ({reason})"
        if "Connection aborted" in text or "EOF occurred" in text:
            # TLS 1.3: a node refusing the client's certificate (or its absence) just closes the connection
            return (f"the node at {base_url} closed the connection without answering; a node serving mutual "
                    "TLS does so to clients that present no certificate it accepts")
    return f"no node answers at {base_url} ({error.__class__.__name__})"


def _format_since(since: Since) -> str:
    if isinstance(since, str):
        return since
    if isinstance(since, datetime):
        moment = since if since.tzinfo is not None else since.replace(tzinfo=timezone.utc)
        delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return format_timestamp((delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000)
    return format_timestamp(int(since))


class EventStream:
    """Events as an iterator; a context manager that closes the WebSocket.

    Iteration ends when the node closes the stream normally (1000); any other close raises
    EventStreamClosedError. ``timeout`` bounds the wait for each next event (NodeTimeoutError).
    """

    def __init__(self, connection: ClientConnection, timeout: float | None) -> None:
        self._connection = connection
        self.timeout = timeout

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> Event:
        try:
            message = self._connection.recv(timeout=self.timeout)
        except TimeoutError:
            raise NodeTimeoutError(f"no event within {self.timeout:g} s") from None
        except ConnectionClosed as closed:
            received = closed.rcvd
            if received is not None and received.code == 1000:
                raise StopIteration from None
            code, reason = (received.code, received.reason) if received is not None else (1006, "connection lost")
            raise EventStreamClosedError(code, reason) from None
        try:
            return Event.from_json(json.loads(message))
        except (ValueError, TypeError, OpspecError) as error:
            raise OpspecError(f"the node sent an event that is not valid: {error}: {str(message)[:200]}") from None

    def close(self) -> None:
        """Close the stream, discarding events still in flight (the node's close frame comes after them)."""
        closing = threading.Thread(target=self._connection.close, name="opspec-stream-close", daemon=True)
        closing.start()
        deadline = time.monotonic() + CLOSE_TIMEOUT
        while closing.is_alive() and time.monotonic() < deadline:
            try:
                self._connection.recv(timeout=0.05)
            except TimeoutError:
                continue
            except ConnectionClosed:
                break
        closing.join(max(deadline - time.monotonic(), 0))

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NodeClient:
    """``tls``: for an https:// node, the CA to trust (default: the system's) and the client certificate
    to present (a node serving mutual TLS requires one)."""

    def __init__(self, base_url: str = DEFAULT_URL, timeout: float = 30.0, tls: ClientTLS | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.tls = tls
        self._ssl_context = tls.context() if tls is not None else None
        self._session = requests.Session()
        # Per request: requests lets REQUESTS_CA_BUNDLE override a session's own verify setting.
        self._tls_kwargs: dict[str, Any] = {}
        if tls is not None and tls.ca is not None:
            self._tls_kwargs["verify"] = str(tls.ca)
        if tls is not None and tls.cert is not None:
            self._tls_kwargs["cert"] = (str(tls.cert), str(tls.key)) if tls.key is not None else str(tls.cert)

    # -- plumbing -------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One HTTP request to the node, returned whatever its status (raises NodeUnavailableError)."""
        kwargs.setdefault("timeout", self.timeout)
        try:
            return self._session.request(method, self.base_url + path, **self._tls_kwargs, **kwargs)
        except requests.ConnectionError as error:  # SSLError included
            raise NodeUnavailableError(_unavailable_reason(self.base_url, error)) from None
        except requests.Timeout:
            raise NodeTimeoutError(f"the node at {self.base_url} did not answer {method} {path} "
                                   f"within {kwargs['timeout']} s") from None

    def _checked(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise _error_from(response.status_code, response.content)
        return response

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the API --------------------------------------------------------------------------------

    def liveness(self) -> bool:
        """True when the node says it can serve; raises NodeError with its reason otherwise."""
        self._checked("GET", "/liveness")
        return True

    def start_op(
        self, pkg_ref: str, args: Mapping[str, Value | Any] | None = None,
        pull_creds: Mapping[str, str] | None = None,
    ) -> str:
        """Start a root op; returns its id. ``args`` values may be Values or plain Python values."""
        pkg: dict[str, Any] = {"ref": str(pkg_ref)}
        if pull_creds is not None:
            pkg["pullCreds"] = {"username": pull_creds["username"], "password": pull_creds["password"]}
        body = {"pkg": pkg, "args": {name: Value.from_python(value, f"args.{name}").to_json()
                                     for name, value in (args or {}).items()}}
        response = self._checked("POST", "/ops/starts", json=body)
        text = response.text
        return json.loads(text) if response.headers.get("Content-Type", "").startswith("application/json") else text

    def kill_op(self, op_id: str) -> None:
        """Kill a root op; returns once the node removed its containers."""
        self._checked("POST", "/ops/kills", json={"opId": op_id})

    def events(
        self, since: Since | None = None, roots: Iterable[str] | None = None, timeout: float | None = None,
    ) -> EventStream:
        """Stream events (stored ones from ``since`` first, then live ones), optionally only those of
        ``roots``. ``since`` is a datetime (naive means UTC), ns since the epoch, or RFC 3339 text."""
        query: dict[str, str] = {}
        if since is not None:
            query["since"] = _format_since(since)
        if roots is not None:
            query["roots"] = ",".join(roots)
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        url = urlunsplit((scheme, parts.netloc, parts.path + "/events/stream", urlencode(query), ""))
        try:
            # Entered as a context manager: the one form every websockets version supports without warning.
            connection = ExitStack().enter_context(connect(
                url, open_timeout=self.timeout, compression=None, max_size=MAX_MESSAGE_BYTES,
                close_timeout=CLOSE_TIMEOUT, ssl=self._ssl_context if scheme == "wss" else None))
        except InvalidStatus as error:
            raise _error_from(error.response.status_code, error.response.body or b"") from None
        except (OSError, InvalidHandshake, TimeoutError) as error:
            raise NodeUnavailableError(f"cannot open the event stream at {url}: {error}") from None
        return EventStream(connection, timeout)

    def wait_for_end(self, op_id: str, timeout: float | None = None) -> list[Event]:
        """Every event of root op ``op_id`` (from the node's history on), up to and including its
        ``opEnded``. Raises NodeTimeoutError when it has not ended within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        collected: list[Event] = []
        with self.events(since=0, roots=[op_id]) as stream:
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise NodeTimeoutError(f"op {op_id} did not end within {timeout:g} s")
                stream.timeout = remaining
                try:
                    event = next(stream)
                except NodeTimeoutError:
                    raise NodeTimeoutError(f"op {op_id} did not end within {timeout:g} s") from None
                except StopIteration:
                    raise EventStreamClosedError(1000, f"the stream ended before op {op_id} ended") from None
                collected.append(event)
                if event.type is EventType.OP_ENDED and event.op_id == op_id:
                    return collected

    def list_contents(self, pkg_ref: str) -> list[dict[str, Any]]:
        """The package's entries: ``{"path", "size", "mode"}`` (mode is a Go FileMode)."""
        return self._checked("GET", f"/pkgs/{quote(str(pkg_ref), safe='')}/contents").json()

    def content_response(self, pkg_ref: str, path: str, method: str = "GET",
                         headers: Mapping[str, str] | None = None) -> requests.Response:
        """The raw response for one file of a package, whatever its status."""
        return self.request(method, f"/pkgs/{quote(str(pkg_ref), safe='')}/contents/{quote(path, safe='')}",
                            headers=dict(headers or {}))

    def get_content(self, pkg_ref: str, path: str, range: str | None = None) -> bytes:
        """A file of the package (``path`` is package-absolute, e.g. ``/op.yml``); ``range`` is a Range
        header value (``bytes=0-99``), and the body is then the partial content."""
        response = self.content_response(pkg_ref, path, headers={"Range": range} if range else None)
        if response.status_code >= 400:
            raise _error_from(response.status_code, response.content)
        return response.content
