"""The engine client's HTTP/1.1: bodies by length, in chunks, until close and raw after an upgrade; keep-alive
reuse; and a clear EngineConnectionError, never a hang, for answers that are cut short or are not HTTP.

The peer is a canned-answer server on a unix socket (the real engine is covered by the e2e tests)."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_opspec.runtime.engine_api import (DockerAPI, EngineAPIError, EngineConnectionError, EngineNotFound,
                                              ask_early, take_early)

PING = b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK"


class CannedEngine:
    """Answers each request, on whichever connection it comes, with the next canned answer; ``None``
    closes that connection, as do an upgrade and ``Connection: close`` after their answer."""

    def __init__(self, path: Path, answers: list[bytes | None]) -> None:
        self.answers = answers
        self.requests: list[bytes] = []
        self.connections = 0
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            reader = connection.makefile("rb")
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                with self._lock:
                    self.requests.append(head + reader.read(length))
                    answer = self.answers.pop(0) if self.answers else None
                if answer is None:
                    return
                connection.sendall(answer)
                if answer.startswith(b"HTTP/1.1 101") or b"Connection: close" in answer:
                    return  # the body (or the raw stream) ends with the connection

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    path = tmp_path / "engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    made: list[CannedEngine] = []

    def start(*answers: bytes | None) -> tuple[CannedEngine, DockerAPI]:
        server = CannedEngine(path, [PING, *answers])
        made.append(server)
        api = DockerAPI(connect_timeout=2, call_timeout=2)
        api.negotiate()
        return server, api

    yield start
    for server in made:
        server.close()


def test_bodies_by_length_in_chunks_and_until_close(engine) -> None:
    server, api = engine(
        b'HTTP/1.1 201 Created\r\nContent-Length: 11\r\n\r\n{"Id": "c"}',
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n{"a":\r\n3\r\n 1}\r\n0\r\nX-T: 1\r\n\r\n',
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"b": 2}',
    )
    assert api.call("POST", "/containers/create", body={"Image": "x"}) == {"Id": "c"}
    assert api.call("GET", "/info") == {"a": 1}
    assert api.call("POST", "/containers/c/start") is None
    assert api.call("GET", "/x") == {"b": 2}
    assert server.connections == 1  # one keep-alive connection served all four
    create = server.requests[1]
    assert create.startswith(b"POST /v1.41/containers/create HTTP/1.1\r\n")
    assert b"Content-Type: application/json" in create and create.endswith(b'{"Image": "x"}')
    assert b"Content-Length: 0" in server.requests[3]  # a POST without a body still says so


def test_an_error_status_carries_the_engines_message(engine) -> None:
    _, api = engine(b'HTTP/1.1 404 Not Found\r\nContent-Length: 26\r\n\r\n{"message": "no such one"}',
                    b"HTTP/1.1 500 Server Error\r\nContent-Length: 4\r\n\r\noops")
    with pytest.raises(EngineNotFound, match="no such one"):
        api.call("GET", "/containers/x/json")
    with pytest.raises(EngineAPIError, match="500: oops"):
        api.call("GET", "/y")


def test_an_idle_connection_the_engine_dropped_is_replaced_once(engine) -> None:
    server, api = engine(None, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    assert api.call("GET", "/info") == {}
    assert server.connections == 2


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{}",  # cut short
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  # a bad chunk size
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabc\r\n",  # a negative one
    b"SSH-2.0-OpenSSH\r\n\r\n",  # not HTTP
    b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n",  # a header line beyond any reason
])
def test_a_broken_answer_is_a_connection_error(engine, answer: bytes) -> None:
    _, api = engine(answer, None)
    with pytest.raises(EngineConnectionError):
        api.call("GET", "/info")


def test_a_silent_engine_is_a_timeout_not_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "silent.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    try:
        with pytest.raises(EngineConnectionError, match="did not answer in time"):
            DockerAPI(connect_timeout=0.3, call_timeout=0.3).negotiate()
    finally:
        server.close()


def test_attach_reads_the_raw_stream_after_the_upgrade(engine) -> None:
    frames = b"".join(struct.pack(">BxxxL", kind, len(data)) + data
                      for kind, data in [(1, b"out\n"), (2, b"err\n"), (1, b""), (1, b"x" * 70000)])
    server, api = engine(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + frames, None)
    with api.stream("POST", "/containers/c/attach", query={"stream": True}, upgrade=True) as stream:
        output = list(stream.output(tty=False))
    assert output[:2] == [("stdout", b"out\n"), ("stderr", b"err\n")]
    assert b"".join(data for _, data in output[2:]) == b"x" * 70000
    assert b"Upgrade: tcp" in server.requests[1]


def test_a_pull_streams_json_messages_from_chunks(engine) -> None:
    body = b'{"status": "Pulling"}\r\n{"status": "Do'
    rest = b'ne"}\r\n'
    answer = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body, len(rest), rest))
    _, api = engine(answer)
    with api.stream("POST", "/images/create", query={"fromImage": "x"}) as stream:
        assert list(stream.messages()) == [{"status": "Pulling"}, {"status": "Done"}]


def test_an_early_ask_hands_over_its_negotiated_client_and_the_info_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    server = CannedEngine(path, [PING, b'HTTP/1.1 200 OK\r\nContent-Length: 28\r\n\r\n{"CgroupDriver": "cgroupfs"}',
                                 b"HTTP/1.1 204 No Content\r\n\r\n"])
    try:
        ask_early()
        taken = take_early()
        assert taken is not None
        api, info = taken
        assert info == {"CgroupDriver": "cgroupfs"}
        assert api.call("POST", "/containers/c/start") is None  # the same client, in the engine's version
        assert server.requests[2].startswith(b"POST /v1.41/containers/c/start ")
        assert take_early() is None
    finally:
        server.close()


def test_an_early_ask_that_failed_or_went_elsewhere_is_not_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    ask_early()
    assert take_early() is None  # the caller connects itself and reports the missing engine as usual
    path = tmp_path / "engine.sock"
    server = CannedEngine(path, [PING, b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}'])
    try:
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        ask_early()
        monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/another.sock")
        assert take_early() is None
    finally:
        server.close()


def test_an_early_ask_nobody_took_gives_way_to_the_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    ask_early()  # a command that stopped before it needed the engine
    path = tmp_path / "engine.sock"
    server = CannedEngine(path, [PING, b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}'])
    try:
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        ask_early()
        taken = take_early()
        assert taken is not None and taken[1] == {}
    finally:
        server.close()
