"""GET /liveness: 200 while the node can serve, 500 with the reason once the engine is gone."""

from __future__ import annotations

import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pytest_opspec.node.client import NodeClient, NodeError
from pytest_opspec.node.server import BackgroundNode
from pytest_opspec.runtime.docker import DockerRuntime

from .conftest import NodeFactory, raw_request

ENGINE_SOCKET = "/var/run/docker.sock"


class EngineProxy:
    """A Unix socket forwarding to the engine's, which the test can pull away (the engine "dies")."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self._listener = socket.socket(socket.AF_UNIX)
        self._listener.bind(self.path)
        self._listener.listen(64)
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX)
            engine.connect(ENGINE_SOCKET)
            with self._lock:
                self._connections += [client, engine]
            threading.Thread(target=self._pipe, args=(client, engine), daemon=True).start()
            threading.Thread(target=self._pipe, args=(engine, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        self._listener.close()
        os.unlink(self.path)
        with self._lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                connection.close()


def test_liveness_is_200_with_an_empty_body(node: BackgroundNode) -> None:
    response = raw_request(node.url, "GET", "/liveness")
    assert (response.status, response.body) == (200, b"")
    assert NodeClient(node.url).liveness() is True


def test_liveness_only_answers_get(node: BackgroundNode) -> None:
    for method in ("POST", "PUT", "DELETE"):
        response = raw_request(node.url, method, "/liveness")
        assert (response.status, response.headers["Allow"]) == (405, "GET")


def test_many_concurrent_probes_all_succeed(node: BackgroundNode) -> None:
    client = NodeClient(node.url)
    with ThreadPoolExecutor(50) as pool:
        assert all(pool.map(lambda _: client.liveness(), range(200)))


def test_liveness_is_500_with_the_reason_when_the_engine_is_gone(
    node_factory: NodeFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not os.path.exists(ENGINE_SOCKET):
        pytest.skip(f"needs the engine at {ENGINE_SOCKET}")
    proxy = EngineProxy(tmp_path / "engine.sock")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{proxy.path}")
    running = node_factory(runtime=DockerRuntime(), liveness_ttl=0.0, engine_timeout=1.0)
    client = NodeClient(running.url)
    assert client.liveness() is True
    proxy.stop()
    started = time.monotonic()
    with pytest.raises(NodeError) as raised:
        client.liveness()
    assert time.monotonic() - started < 5
    assert (raised.value.status, raised.value.code) == (500, "ENGINE_UNAVAILABLE")
    assert f"the Docker engine at unix://{proxy.path} does not answer" in raised.value.message
