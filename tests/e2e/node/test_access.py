"""Who gets into the node: Origin (HTTP and WebSocket), Host (DNS rebinding), CORS, --allow-mount,
non-loopback listening without mutual TLS, and an mTLS round trip with certificates made here."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from pytest_opspec.events import EventType
from pytest_opspec.node.access import AccessPolicy
from pytest_opspec.node.client import NodeClient, NodeError, NodeUnavailableError
from pytest_opspec.node.server import BackgroundNode
from pytest_opspec.node.tls import ClientTLS, ServerTLS
from pytest_opspec.values import Value
from tests.support.certs import Certs, make_certs

from .conftest import NodeFactory, raw_request, ws_url
from .test_cli_node import ENV, OPSPEC, start_node

UI = "http://localhost:3000"


@pytest.fixture(scope="module")
def guarded(node_factory: NodeFactory) -> BackgroundNode:
    """A node that lets one web UI in and serves one extra host name."""
    return node_factory(access=AccessPolicy.build(origins=[UI], hosts=["node.internal"]))


def started_ops(client: NodeClient, since_ns: int, pkg: Path, wait: float = 1.0) -> list[str]:
    """Ids of root ops of ``pkg`` started since ``since_ns`` (the store's replay, then ``wait`` s live)."""
    ids = []
    with client.events(since=since_ns, timeout=wait) as stream:
        try:
            for event in stream:
                if event.type is EventType.OP_STARTED and event.pkg_ref == str(pkg) and event.op_id == event.root_op_id:
                    ids.append(event.op_id)
        except TimeoutError:
            pass
    return ids


def test_a_foreign_origin_starts_nothing(node: BackgroundNode, client: NodeClient, echo_op: Path) -> None:
    since = time.time_ns()
    body = json.dumps({"pkg": {"ref": str(echo_op)}}).encode()
    # what any web page can send without a preflight: a "simple" text/plain POST
    response = raw_request(node.url, "POST", "/ops/starts", body,
                           {"Origin": "http://evil.example", "Content-Type": "text/plain"})
    assert response.status == 403
    assert response.json()["code"] == "ORIGIN_NOT_ALLOWED"
    assert "--allow-origin" in response.json()["message"]
    assert "Access-Control-Allow-Origin" not in response.headers
    kill = raw_request(node.url, "POST", "/ops/kills", b'{"opId": "x"}', {"Origin": "null"})
    assert kill.status == 403
    assert started_ops(client, since, echo_op) == []


def test_a_foreign_origin_gets_no_websocket(node: BackgroundNode) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(node.url, "since=1970-01-01T00:00:00Z"), origin="http://evil.example", open_timeout=10)
    assert refused.value.response.status_code == 403
    assert json.loads(refused.value.response.body)["code"] == "ORIGIN_NOT_ALLOWED"


def test_a_rebound_host_name_is_refused(node: BackgroundNode) -> None:
    port = node.url.rsplit(":", 1)[1]
    for host in ("rebound.example", f"rebound.example:{port}", f"127.0.0.1.nip.io:{port}"):
        response = raw_request(node.url, "GET", "/liveness", headers={"Host": host})
        assert response.status == 403, host
        assert response.json()["code"] == "HOST_NOT_ALLOWED"
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "127.9.9.9"):
        assert raw_request(node.url, "GET", "/liveness", headers={"Host": host}).status == 200, host
    # the handshake a rebound page's WebSocket sends: its own name as Host, on the node's socket
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as sock:
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://rebound.example:{port}/events/stream", sock=sock, open_timeout=10)
    assert refused.value.response.status_code == 403


def test_cors_names_only_allowed_origins(guarded: BackgroundNode) -> None:
    answer = raw_request(guarded.url, "GET", "/liveness", headers={"Origin": UI})
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == UI
    assert answer.headers["Vary"] == "Origin"
    preflight = raw_request(guarded.url, "OPTIONS", "/ops/starts", headers={
        "Origin": UI, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == UI
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    refused = raw_request(guarded.url, "OPTIONS", "/ops/starts", headers={
        "Origin": "http://localhost:3001", "Access-Control-Request-Method": "POST"})
    assert refused.status == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Origin" not in raw_request(guarded.url, "GET", "/liveness").headers
    port = guarded.url.rsplit(":", 1)[1]
    assert raw_request(guarded.url, "GET", "/liveness", headers={"Host": f"node.internal:{port}"}).status == 200
    with connect(ws_url(guarded.url), origin=UI, open_timeout=10):
        pass


def test_allow_mount_refuses_host_paths_outside(node_factory: NodeFactory, make_op: Callable[..., Path],
                                                tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "data.txt").write_text("fine")
    op = make_op("reads-a-dir", """
        name: reads-a-dir
        inputs:
          src: { dir: {} }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [cat, /src/data.txt]
            dirs: { /src: $(src) }
    """)
    restricted = node_factory(access=AccessPolicy.build(mounts=[allowed]))
    with NodeClient(restricted.url, timeout=30) as client:
        with pytest.raises(NodeError) as refused:
            client.start_op(str(op), {"src": Value.dir("/")})
        assert refused.value.status == 400
        assert refused.value.code == "MOUNT_NOT_ALLOWED"
        assert "'src'" in refused.value.message
        op_id = client.start_op(str(op), {"src": Value.dir(allowed)})
        events = client.wait_for_end(op_id, timeout=60)
    assert [e.data for e in events if e.type is EventType.CONTAINER_STDOUT_WRITTEN_TO] == [b"fine"]


# -- listening beyond loopback and mutual TLS -----------------------------------------------------

@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.mark.parametrize("flags", [[], ["--tls-cert", "c.pem", "--tls-key", "k.pem"]])
@pytest.mark.parametrize("listen", ["0.0.0.0:0", "[::]:0", "10.255.255.1:0", "node.example:0"])
def test_listening_beyond_loopback_needs_mutual_tls(listen: str, flags: list[str], tmp_path: Path) -> None:
    done = subprocess.run([*OPSPEC, "node", "--listen", listen, "--data-dir", str(tmp_path), *flags],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--tls-cert" in done.stderr and "--tls-key" in done.stderr and "--tls-client-ca" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "events.db").exists()  # refused before anything started


def test_mutual_tls_round_trip(node_factory: NodeFactory, certs: Certs, echo_op: Path) -> None:
    secure = node_factory(tls=ServerTLS(certs.server.cert, certs.server.key, certs.ca))
    assert secure.url.startswith("https://127.0.0.1:")
    tls = ClientTLS(ca=certs.ca, cert=certs.client.cert, key=certs.client.key)
    with NodeClient(secure.url, timeout=30, tls=tls) as client:
        assert client.liveness()
        op_id = client.start_op(str(echo_op), {"who": "tls"})
        events = client.wait_for_end(op_id, timeout=60)  # over wss://
        assert events[-1].outcome.value == "SUCCEEDED"
        assert client.get_content(str(echo_op), "/op.yml").startswith(b"name: echo")
    for refused in (ClientTLS(ca=certs.ca), ClientTLS(ca=certs.ca, cert=certs.stranger.cert, key=certs.stranger.key)):
        with NodeClient(secure.url, timeout=10, tls=refused) as client:
            with pytest.raises(NodeUnavailableError):
                client.liveness()
    # a client that does not know the node's CA does not trust it
    with NodeClient(secure.url, timeout=10, tls=ClientTLS(cert=certs.client.cert, key=certs.client.key)) as client:
        with pytest.raises(NodeUnavailableError):
            client.liveness()


def test_node_command_serves_mutual_tls(certs: Certs, tmp_path: Path) -> None:
    process = start_node("--listen", "127.0.0.1:0", "--data-dir", str(tmp_path), "--tls-cert", str(certs.server.cert),
                         "--tls-key", str(certs.server.key), "--tls-client-ca", str(certs.ca))
    try:
        assert process.url.startswith("https://")
        with NodeClient(process.url, timeout=10,
                        tls=ClientTLS(ca=certs.ca, cert=certs.client.cert, key=certs.client.key)) as client:
            assert client.liveness()
        context = ssl.create_default_context(cafile=str(certs.ca))
        # TLS 1.3: the node's refusal of a client without a certificate arrives after the client's handshake
        # ends, as a closed connection at whichever read comes first
        with pytest.raises((InvalidHandshake, ConnectionClosed, OSError)):
            with connect(process.url.replace("https://", "wss://") + "/events/stream", ssl=context,
                         open_timeout=10) as stream:
                stream.recv(timeout=10)
    finally:
        process.process.terminate()
        process.process.wait(30)


def test_node_command_names_a_bad_certificate_file(certs: Certs, tmp_path: Path) -> None:
    done = subprocess.run([*OPSPEC, "node", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path),
                           "--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(certs.server.key),
                           "--tls-client-ca", str(certs.ca)], capture_output=True, text=True, timeout=60, env=ENV)
    assert done.returncode == 2
    assert "--tls-cert" in done.stderr and "missing.pem" in done.stderr
    assert "Traceback" not in done.stderr
