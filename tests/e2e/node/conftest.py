"""Node tests: the bundled node served in-process on a free port, with a real executor and engine."""

from __future__ import annotations

import dataclasses
import http.client
import json
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import pytest
from websockets.sync.client import ClientConnection, connect

from pytest_opspec.node.client import NodeClient
from pytest_opspec.backends.runtime import make_runtime
from pytest_opspec.node.core import Node, NodeSettings
from pytest_opspec.node.server import BackgroundNode

from tests.support import IMAGE_MAP, assert_no_resources

NodeFactory = Callable[..., BackgroundNode]


@pytest.fixture(scope="session")
def node_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeFactory]:
    """start(data_dir=None, **settings) -> a running BackgroundNode; all are stopped at the end."""
    started: list[BackgroundNode] = []

    def start(data_dir: Path | None = None, runtime: Any = None, **overrides: Any) -> BackgroundNode:
        settings = NodeSettings(data_dir=data_dir or tmp_path_factory.mktemp("node-data"))
        node = Node(dataclasses.replace(settings, **overrides), runtime or make_runtime(image_map=IMAGE_MAP))
        running = BackgroundNode(node).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
    for running in started:
        assert_no_resources(running.node.executor.owner)


@pytest.fixture(scope="session")
def node(node_factory: NodeFactory) -> BackgroundNode:
    """The node most tests share."""
    return node_factory()


@pytest.fixture
def client(node: BackgroundNode) -> Iterator[NodeClient]:
    with NodeClient(node.url, timeout=30) as node_client:
        yield node_client


@pytest.fixture
def echo_op(make_op: Callable[..., Path]) -> Path:
    """An op with one container that prints two lines (one to stderr) and binds an output."""
    return make_op("echo", """
        name: echo
        inputs:
          who: { string: { default: world } }
        outputs:
          greeting: { string: {} }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'echo "greeting=hello $who"; echo to-stderr >&2']
            envVars: { who: }
            stdOut: { 'greeting=': greeting }
    """)


@pytest.fixture
def sleep_op(make_op: Callable[..., Path]) -> Path:
    """A container that prints "ready" and then sleeps for a minute."""
    return make_op("sleeper", """
        name: sleeper
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'echo ready; exec sleep 60']
    """)


@dataclasses.dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(base_url: str, method: str, target: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> RawResponse:
    """Send ``target`` exactly as written (no normalising or re-encoding of the path)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return RawResponse(response.status, response.headers, response.read())
    finally:
        connection.close()


def ws_url(base_url: str, query: str = "") -> str:
    return base_url.replace("http://", "ws://") + "/events/stream" + (f"?{query}" if query else "")


def ws_connect(base_url: str, query: str = "", **kwargs: Any) -> ClientConnection:
    return connect(ws_url(base_url, query), compression=None, open_timeout=10, max_size=None, **kwargs)


def receive_until_root_ended(connection: ClientConnection, root_op_id: str, timeout: float = 30) -> list[str]:
    """Raw messages up to and including the root op's opEnded."""
    messages = []
    while True:
        message = connection.recv(timeout=timeout)
        messages.append(message)
        document = json.loads(message)
        ended = document.get("opEnded")
        if ended and ended["opId"] == root_op_id:
            return messages
