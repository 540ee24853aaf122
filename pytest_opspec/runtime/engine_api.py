"""A small client of the Docker Engine API: the calls DockerRuntime makes, over the standard library.

Why not the ``docker`` SDK: importing it (with ``requests`` and ``urllib3``) took longer than a whole
``docker run``, and its attach inspects the container first to learn whether it has a TTY, which the caller
knows. Here a run makes the round trips the docker CLI makes: a ping (which also negotiates the API version),
create, attach, start, wait, remove.

``DOCKER_HOST`` may be ``unix://PATH`` (the default, /var/run/docker.sock) or ``tcp://HOST:PORT``, with TLS
when ``DOCKER_TLS_VERIFY`` is set (certificates in ``DOCKER_CERT_PATH``, default ~/.docker), as the docker CLI
reads them.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import struct
import threading
from typing import Any, BinaryIO, Iterator, Mapping
from urllib.parse import quote, urlencode, urlsplit

# The newest API version whose requests this client was written against; an older engine is spoken to in
# its own version (the fields used here exist since 1.30).
MAX_API_VERSION = (1, 45)
IDLE_CONNECTIONS = 8


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


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class DockerAPI:
    """Thread-safe; keeps a few idle keep-alive connections."""

    def __init__(self, *, connect_timeout: float, call_timeout: float) -> None:
        self.address = engine_address()
        self.connect_timeout = connect_timeout
        self.call_timeout = call_timeout
        self._connection_factory = _factory(self.address)
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._prefix = ""

    def negotiate(self) -> None:
        """Ping the engine (within the connect timeout) and speak its API version from now on."""
        status, headers, _ = self._exchange("GET", "/_ping", None, {}, self.connect_timeout)
        if status != 200:
            raise EngineConnectionError(f"the engine answered the ping with status {status}")
        server = tuple(int(part) for part in (headers.get("Api-Version") or "1.30").split(".")[:2])
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
        connection = self._connection_factory(self.connect_timeout)
        try:
            connection.request(method, self._target(path, query), body=b"" if method == "POST" else None,
                               headers=extra)
            response = connection.getresponse()
            if response.status >= 400:
                _raise_for(response.status, response.read())
            if connection.sock is not None:
                connection.sock.settimeout(None)  # a container may stay silent for as long as it likes
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise EngineConnectionError(_reason(error)) from None
        except BaseException:
            connection.close()
            raise
        return EngineStream(connection, response, raw=response.status == 101)

    def _target(self, path: str, query: Mapping[str, Any] | None) -> str:
        target = self._prefix + path
        if query:
            target += "?" + urlencode({k: _query_value(v) for k, v in query.items() if v is not None})
        return target

    def _exchange(self, method: str, target: str, body: bytes | None, headers: dict[str, str],
                  timeout: float) -> tuple[int, http.client.HTTPMessage, bytes]:
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            connection, reused = self._checkout(timeout)
            try:
                connection.request(method, target, body=body if body is not None or method != "POST" else b"",
                                   headers=headers)
                response = connection.getresponse()
                answer = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                connection.close()
                if reused and attempt == 0:
                    continue  # the engine closed an idle keep-alive connection: once more on a new one
                raise EngineConnectionError(_reason(error)) from None
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                raise EngineConnectionError(_reason(error)) from None
            except BaseException:
                connection.close()
                raise
            self._checkin(connection, response)
            return response.status, response.headers, answer
        raise AssertionError("unreachable")

    def _checkout(self, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            return self._connection_factory(timeout), False
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection, True

    def _checkin(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        with self._lock:
            if not response.will_close and len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class EngineStream:
    """An answer read as it arrives: JSON messages (pulls) or a container's output (attach)."""

    def __init__(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse, raw: bool) -> None:
        self._connection = connection
        self._response = response
        # After a 101 the connection carries the raw stream; http.client reads no body for a 1xx answer.
        self._body: BinaryIO = response.fp if raw else response

    def messages(self) -> Iterator[dict[str, Any]]:
        """The JSON objects of a progress stream (pull), as they arrive."""
        decoder = json.JSONDecoder()
        buffer = ""
        for chunk in self._chunks():
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
            for chunk in self._chunks():
                yield "stdout", chunk
            return
        read = self._body.read
        try:
            while True:
                header = read(8)
                if len(header) < 8:
                    return
                kind, size = header[0], struct.unpack(">L", header[4:8])[0]
                payload = read(size) if size else b""
                if payload:
                    yield ("stderr" if kind == 2 else "stdout"), payload
                if len(payload) < size:
                    return
        except (OSError, http.client.HTTPException) as error:
            raise EngineConnectionError(_reason(error)) from None

    def _chunks(self) -> Iterator[bytes]:
        read1 = getattr(self._body, "read1", None) or self._body.read
        try:
            while chunk := read1(65536):
                yield chunk
        except (OSError, http.client.HTTPException) as error:
            raise EngineConnectionError(_reason(error)) from None

    def close(self) -> None:
        self._response.close()
        self._connection.close()

    def __enter__(self) -> EngineStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def registry_auth_header(username: str, password: str) -> dict[str, str]:
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


def _factory(address: str) -> Any:
    parts = urlsplit(address)
    if parts.scheme == "unix":
        path = parts.path or "/var/run/docker.sock"
        return lambda timeout: _UnixConnection(path, timeout)
    if parts.scheme in ("tcp", "http", "https") and parts.hostname:
        tls = parts.scheme == "https" or bool(os.environ.get("DOCKER_TLS_VERIFY"))
        port = parts.port or (2376 if tls else 2375)
        if not tls:
            return lambda timeout: http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
        context = _tls_context()
        return lambda timeout: http.client.HTTPSConnection(parts.hostname, port, timeout=timeout, context=context)
    raise EngineConnectionError(f"DOCKER_HOST={address} is not unix://PATH or tcp://HOST:PORT")


def _tls_context() -> Any:
    import ssl  # only for an engine reached over TLS

    cert_dir = os.environ.get("DOCKER_CERT_PATH") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        context = ssl.create_default_context(cafile=os.path.join(cert_dir, "ca.pem"))
        context.load_cert_chain(os.path.join(cert_dir, "cert.pem"), os.path.join(cert_dir, "key.pem"))
    except (OSError, ssl.SSLError) as error:
        raise EngineConnectionError(f"cannot load the TLS certificates in {cert_dir}: {error}") from None
    return context
