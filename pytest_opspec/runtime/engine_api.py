"""A small client of the Docker Engine API: the calls DockerRuntime makes, over the standard library.

Why not the ``docker`` SDK: importing it (with ``requests`` and ``urllib3``) took longer than a whole
``docker run``, and its attach inspects the container first to learn whether it has a TTY, which the caller
knows. Here a run makes the round trips the docker CLI makes: a ping (which also negotiates the API version),
create, attach, start, wait, remove. HTTP/1.1 is spoken by the few lines of ``_Connection`` rather than
``http.client``, whose import (with ``email`` and ``ssl``) cost a tenth of an ``opspec run``; the engine's
answers need only status, headers, and bodies by length, in chunks, or raw after an upgrade.

``DOCKER_HOST`` may be ``unix://PATH`` (the default, /var/run/docker.sock) or ``tcp://HOST:PORT``, with TLS
when ``DOCKER_TLS_VERIFY`` is set (certificates in ``DOCKER_CERT_PATH``, default ~/.docker), as the docker CLI
reads them.
"""

from __future__ import annotations

import io
import json
import os
import socket
import struct
import threading
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import quote, urlencode, urlsplit

# The newest API version whose requests this client was written against; an older engine is spoken to in
# its own version (the fields used here exist since 1.30).
MAX_API_VERSION = (1, 45)
# Seconds to wait for the engine to answer at start; the "no engine" error must come quickly.
CONNECT_TIMEOUT = 4.0
# Seconds for ordinary API calls once connected (pulls and streams are not bounded by it).
CALL_TIMEOUT = 120.0
IDLE_CONNECTIONS = 8
# Bounds on an answer's head, so that a peer speaking garbage cannot make us read forever.
_MAX_LINE = 65536
_MAX_HEADERS = 200


class EngineConnectionError(Exception):
    """The engine could not be reached, or the connection broke."""


class EngineAPIError(Exception):
    """The engine answered with an error status."""

    def __init__(self, status: int, explanation: str) -> None:
        super().__init__(f"{status}: {explanation}")
        self.status_code = status
        self.explanation = explanation


class EngineNotFound(EngineAPIError):
    pass


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


class _Closed(ConnectionError):
    """The peer closed the connection before answering (an idle keep-alive connection the engine dropped)."""


class _Connection:
    """One HTTP/1.1 connection to the engine: a request, then its answer's head and body."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._file = sock.makefile("rb")

    def settimeout(self, timeout: float | None) -> None:
        self.sock.settimeout(timeout)

    def request(self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]) -> None:
        head = [f"{method} {target} HTTP/1.1", "Host: docker"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT"):
            head.append(f"Content-Length: {len(body or b'')}")
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b""))

    def answer(self, method: str) -> _Answer:
        """The answer's status and headers; its body is read from the returned answer."""
        status_line = self._line()
        if not status_line:
            raise _Closed("the engine closed the connection without answering")
        version, _, rest = status_line.partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/") or not code.isdigit():
            raise ConnectionError(f"not an HTTP answer: {status_line[:80]!r}")
        headers: dict[str, str] = {}
        while line := self._line():
            if len(headers) >= _MAX_HEADERS:
                raise ConnectionError("the answer has too many headers")
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return _Answer(self._file, int(code), headers, method, version == "HTTP/1.0")

    def _line(self) -> str:
        line = self._file.readline(_MAX_LINE)
        if line and not line.endswith(b"\n"):
            raise ConnectionError("an answer line is too long or cut short")
        return line.decode("latin-1").rstrip("\r\n")

    def close(self) -> None:
        self._file.close()
        self.sock.close()


class _Answer:
    """An answer's status, headers and body: read whole (``read``) or as it arrives (``read1``)."""

    def __init__(self, file: io.BufferedReader, status: int, headers: dict[str, str], method: str,
                 http10: bool) -> None:
        self.status = status
        self.headers = headers
        self._file = file
        self._chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        self._left: int | None = None  # bytes left in the body (or in the current chunk); None: until the end
        if method == "HEAD" or status in (204, 304) or (100 <= status < 200 and status != 101):
            self._left = 0
        elif not self._chunked and "content-length" in headers:
            self._left = int(headers["content-length"]) if headers["content-length"].isdigit() else None
        self._done = self._left == 0 and not self._chunked
        self._pending = b""
        # After a 101 the connection carries the container's raw stream until it ends.
        self.will_close = (status == 101 or http10 or headers.get("connection", "").lower() == "close"
                           or (self._left is None and not self._chunked))

    def read1(self) -> bytes:
        """The next piece of the body as soon as some of it arrived; b"" at its end."""
        if self._pending:
            piece, self._pending = self._pending, b""
            return piece
        return self._next_piece()

    def read(self, size: int | None = None) -> bytes:
        """``size`` bytes of the body (fewer only at its end), or all of it."""
        if size is None:
            return b"".join(iter(self.read1, b""))
        pieces, have = [self._pending], len(self._pending)
        while have < size and (piece := self._next_piece()):
            pieces.append(piece)
            have += len(piece)
        data = b"".join(pieces)
        self._pending = data[size:]
        return data[:size]

    def _next_piece(self) -> bytes:
        if self._done:
            return b""
        if self._chunked and not self._left:
            self._left = self._chunk_size()
            if self._done:
                return b""
        piece = self._file.read1(65536 if self._left is None else min(self._left, 65536))
        if not piece:
            if self._left is not None:
                raise ConnectionError("the engine closed the connection in the middle of an answer")
            self._done = True
            return b""
        if self._left is not None:
            self._left -= len(piece)
            if self._left == 0:
                if self._chunked:
                    self._file.readline(_MAX_LINE)  # the CRLF after a chunk
                else:
                    self._done = True
        return piece

    def _chunk_size(self) -> int:
        line = self._file.readline(_MAX_LINE)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size < 0:
                raise ValueError(size)
        except ValueError:
            raise ConnectionError(f"a bad chunk size in the answer: {line[:40]!r}") from None
        if size == 0:
            while self._file.readline(_MAX_LINE).strip():  # trailers, up to the blank line
                pass
            self._done = True
        return size


class DockerAPI:
    """Thread-safe; keeps a few idle keep-alive connections."""

    def __init__(self, *, connect_timeout: float, call_timeout: float) -> None:
        self.address = engine_address()
        self.connect_timeout = connect_timeout
        self.call_timeout = call_timeout
        self._connection_factory = _factory(self.address)
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._prefix = ""

    def negotiate(self) -> None:
        """Ping the engine (within the connect timeout) and speak its API version from now on."""
        status, headers, _ = self._exchange("GET", "/_ping", None, {}, self.connect_timeout)
        if status != 200:
            raise EngineConnectionError(f"the engine answered the ping with status {status}")
        server = tuple(int(part) for part in (headers.get("api-version") or "1.30").split(".")[:2])
        self._prefix = "/v%d.%d" % min(server, MAX_API_VERSION)

    # -- requests -------------------------------------------------------------------------------

    def call(self, method: str, path: str, *, query: Mapping[str, Any] | None = None, body: Any = None,
             headers: Mapping[str, str] | None = None) -> Any:
        """One request; the decoded JSON answer (None when empty). Raises EngineAPIError on >= 400."""
        data = json.dumps(body).encode() if body is not None else None
        status, _, answer = self._exchange(method, self._target(path, query), data, dict(headers or {}),
                                           self.call_timeout)
        _raise_for(status, answer)
        return json.loads(answer) if answer else None

    def stream(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
               headers: Mapping[str, str] | None = None, upgrade: bool = False) -> EngineStream:
        """A request whose answer is read as it comes (no read timeout), on a connection of its own."""
        extra = dict(headers or {})
        if upgrade:  # attach: the engine hijacks the connection for the container's raw stream
            extra.update({"Connection": "Upgrade", "Upgrade": "tcp"})
        try:
            connection = self._connection_factory(self.connect_timeout)
        except OSError as error:
            raise EngineConnectionError(_reason(error)) from None
        try:
            connection.request(method, self._target(path, query), None, extra)
            answer = connection.answer(method)
            if answer.status >= 400:
                _raise_for(answer.status, answer.read())
            connection.settimeout(None)  # a container may stay silent for as long as it likes
        except OSError as error:
            connection.close()
            raise EngineConnectionError(_reason(error)) from None
        except BaseException:
            connection.close()
            raise
        return EngineStream(connection, answer)

    def _target(self, path: str, query: Mapping[str, Any] | None) -> str:
        target = self._prefix + path
        if query:
            target += "?" + urlencode({k: _query_value(v) for k, v in query.items() if v is not None})
        return target

    def _exchange(self, method: str, target: str, body: bytes | None, headers: dict[str, str],
                  timeout: float) -> tuple[int, dict[str, str], bytes]:
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            reused = connection is not None
            try:
                if connection is None:
                    connection = self._connection_factory(timeout)
                else:
                    connection.settimeout(timeout)
                connection.request(method, target, body, headers)
                answer = connection.answer(method)
                data = answer.read()
            except (_Closed, BrokenPipeError, ConnectionResetError) as error:
                if connection is not None:
                    connection.close()
                if reused and attempt == 0:
                    continue  # the engine closed an idle keep-alive connection: once more on a new one
                raise EngineConnectionError(_reason(error)) from None
            except OSError as error:
                if connection is not None:
                    connection.close()
                raise EngineConnectionError(_reason(error)) from None
            except BaseException:
                if connection is not None:
                    connection.close()
                raise
            self._checkin(connection, answer)
            return answer.status, answer.headers, data
        raise AssertionError("unreachable")

    def _checkin(self, connection: _Connection, answer: _Answer) -> None:
        with self._lock:
            if not answer.will_close and len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class _EarlyAsk(threading.Thread):
    """Pings the engine and asks for its /info, for a command that will need both once it has loaded."""

    def __init__(self) -> None:
        super().__init__(name="opspec-engine-early", daemon=True)  # never keeps a finished command alive
        self.api: DockerAPI | None = None
        self.info: Any = None

    def run(self) -> None:
        # Whatever fails here (no engine, a bad DOCKER_HOST, missing TLS files) fails again when the runtime
        # asks itself, in the open, where it is reported; a thread must not print it as a traceback.
        try:
            api = DockerAPI(connect_timeout=CONNECT_TIMEOUT, call_timeout=CALL_TIMEOUT)
        except Exception:
            return
        try:
            api.negotiate()
            self.info = api.call("GET", "/info")
        except Exception:
            api.close()
            return
        self.api = api


_early: list[_EarlyAsk] = []  # at most one: the ask not yet taken


def ask_early() -> None:
    """Start asking the engine (ping, /info) on a background thread; ``take_early`` gets the answer.

    For `opspec run`: the engine spends 10-20 ms on /info, which it now spends while the command's modules
    load instead of after (the thread holds the interpreter only to send and to read). Nothing it meets is
    reported from here: the runtime asks again itself when the early ask failed, and reports that.
    """
    stale = _finished_ask()  # one that nobody took (the command stopped before it needed the engine)
    if stale is not None and stale.api is not None:
        stale.api.close()
    ask = _EarlyAsk()
    _early.append(ask)
    ask.start()


def take_early() -> tuple[DockerAPI, Any] | None:
    """The early ask's negotiated client and /info answer, once; None when none was started, it failed, or
    it asked another engine than DOCKER_HOST names now. Waits for it as the caller would wait for its own
    calls (the same timeouts bound it)."""
    ask = _finished_ask()
    if ask is None or ask.api is None:
        return None
    if ask.api.address != engine_address():
        ask.api.close()
        return None
    return ask.api, ask.info


def _finished_ask() -> _EarlyAsk | None:
    """The pending early ask, taken out and waited for; None when there is none."""
    if not _early:
        return None
    ask = _early.pop()
    ask.join()
    return ask


class EngineStream:
    """An answer read as it arrives: JSON messages (pulls) or a container's output (attach)."""

    def __init__(self, connection: _Connection, answer: _Answer) -> None:
        self._connection = connection
        self._answer = answer

    def messages(self) -> Iterator[dict[str, Any]]:
        """The JSON objects of a progress stream (pull), as they arrive."""
        decoder = json.JSONDecoder()
        buffer = ""
        for chunk in self._reading(self._pieces):
            buffer += chunk.decode("utf-8", errors="replace")
            while True:
                buffer = buffer.lstrip()
                if not buffer:
                    break
                try:
                    message, end = decoder.raw_decode(buffer)
                except ValueError:
                    break  # an incomplete message: wait for more
                buffer = buffer[end:]
                if isinstance(message, dict):
                    yield message

    def output(self, tty: bool) -> Iterator[tuple[str, bytes]]:
        """("stdout" | "stderr", bytes) as the container writes them; one stream when it has a TTY."""
        if tty:
            for chunk in self._reading(self._pieces):
                yield "stdout", chunk
            return
        yield from self._reading(self._frames)

    def _pieces(self) -> Iterator[bytes]:
        while piece := self._answer.read1():
            yield piece

    def _frames(self) -> Iterator[tuple[str, bytes]]:
        read = self._answer.read
        while len(header := read(8)) == 8:
            kind, size = header[0], struct.unpack(">L", header[4:8])[0]
            payload = read(size) if size else b""
            if payload:
                yield ("stderr" if kind == 2 else "stdout"), payload
            if len(payload) < size:
                return

    def _reading(self, produce: Callable[[], Iterator[Any]]) -> Iterator[Any]:
        """What ``produce()`` yields; a broken connection is an EngineConnectionError."""
        try:
            yield from produce()
        except OSError as error:
            raise EngineConnectionError(_reason(error)) from None

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> EngineStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def registry_auth_header(username: str, password: str) -> dict[str, str]:
    import base64  # here: only a pull with credentials needs it

    encoded = base64.urlsafe_b64encode(json.dumps({"username": username, "password": password}).encode())
    return {"X-Registry-Auth": encoded.decode("ascii")}


def quoted(name: str) -> str:
    """A container, image or network name as one path segment."""
    return quote(name, safe="")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _raise_for(status: int, answer: bytes) -> None:
    if status < 400:
        return
    try:
        explanation = json.loads(answer).get("message") or ""
    except (ValueError, AttributeError):
        explanation = answer.decode("utf-8", errors="replace").strip()
    raise (EngineNotFound if status == 404 else EngineAPIError)(status, explanation or f"status {status}")


def _reason(error: BaseException) -> str:
    reasons = {
        FileNotFoundError: "the socket does not exist",
        ConnectionRefusedError: "the connection was refused",
        PermissionError: "permission denied on the socket",
        TimeoutError: "it did not answer in time",
    }
    for kind, reason in reasons.items():
        if isinstance(error, kind):
            return reason
    return str(error) or type(error).__name__


def _factory(address: str) -> Callable[[float], _Connection]:
    """Opens a connection to the engine at ``address`` within a timeout (which stays the socket's timeout)."""
    parts = urlsplit(address)
    if parts.scheme == "unix":
        path = parts.path or "/var/run/docker.sock"
        return lambda timeout: _connected(socket.AF_UNIX, path, timeout)
    host = parts.hostname
    if parts.scheme in ("tcp", "http", "https") and host:
        tls = parts.scheme == "https" or bool(os.environ.get("DOCKER_TLS_VERIFY"))
        port = parts.port or (2376 if tls else 2375)
        if not tls:
            return lambda timeout: _Connection(socket.create_connection((host, port), timeout))
        context = _tls_context()

        def tls_connection(timeout: float) -> _Connection:
            sock = socket.create_connection((host, port), timeout)
            try:
                return _Connection(context.wrap_socket(sock, server_hostname=host))
            except BaseException:
                sock.close()
                raise

        return tls_connection
    raise EngineConnectionError(f"DOCKER_HOST={address} is not unix://PATH or tcp://HOST:PORT")


def _connected(family: int, address: str, timeout: float) -> _Connection:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return _Connection(sock)


def _tls_context() -> Any:
    import ssl  # only for an engine reached over TLS

    cert_dir = os.environ.get("DOCKER_CERT_PATH") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        context = ssl.create_default_context(cafile=os.path.join(cert_dir, "ca.pem"))
        context.load_cert_chain(os.path.join(cert_dir, "cert.pem"), os.path.join(cert_dir, "key.pem"))
    except (OSError, ssl.SSLError) as error:
        raise EngineConnectionError(f"cannot load the TLS certificates in {cert_dir}: {error}") from None
    return context
