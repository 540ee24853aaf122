"""The transport: a node's broken HTTP framing fails the check that asked; it never errs the suite."""

from __future__ import annotations

import socket
import threading

import pytest

from pytest_opspec.conformance.registry import CheckFailed
from pytest_opspec.conformance.transport import Exchange, Http, Node


def answer_with(raw: bytes) -> Exchange:
    """GET a content path from a loopback server that answers with exactly ``raw`` and closes."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(raw)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    http = Http(Node(f"http://127.0.0.1:{server.getsockname()[1]}"), 5.0, lambda exchange: None, lambda: "check")
    try:
        return http.request("GET", "/pkgs/x/contents/data", template="/pkgs/{ref}/contents/{path}")
    finally:
        thread.join(10)
        server.close()


@pytest.mark.parametrize(("raw", "message"), [
    # opctl 0.1.21 answers a directory like this (Go's http.ServeContent on a dir's size)
    (b"HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nread error",
     "declares Content-Length 9223372036854775807"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nabc",
     "the connection failed before a complete answer (OverflowError"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "the connection failed before a complete answer"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "the connection failed before a complete"),
    (b"not http at all\r\n\r\n", "the connection failed before a complete answer"),
])
def test_broken_framing_is_the_nodes_failure(raw: bytes, message: str) -> None:
    with pytest.raises(CheckFailed) as failed:
        answer_with(raw)
    assert message in str(failed.value)
    assert str(failed.value).startswith("GET /pkgs/x/contents/data")


def test_a_well_framed_answer_is_read_whole() -> None:
    exchange = answer_with(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
    assert (exchange.status, exchange.body) == (200, b"abc")
