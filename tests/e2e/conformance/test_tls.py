"""`opspec conformance` against a node serving mutual TLS: the suite presents a client certificate
over HTTPS and WSS; without one it cannot set up."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_opspec.cli import main
from pytest_opspec.node.tls import ServerTLS

from tests.support import TEST_IMAGE
from tests.support.certs import make_certs

from .conftest import NodeStarter


def test_checks_a_node_over_mutual_tls(start_node: NodeStarter, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    certs = make_certs(tmp_path / "certs")
    node = start_node(tls=ServerTLS(certs.server.cert, certs.server.key, certs.ca))
    selected = ["--select", "liveness.ok", "--select", "events.stream.upgrade", "--select", "pkgs.contents.get-file"]
    client = ["--node-ca", str(certs.ca), "--client-cert", str(certs.client.cert), "--client-key", str(certs.client.key)]
    assert main(["conformance", node.url, "--image", TEST_IMAGE, *selected, *client]) == 0
    out = capsys.readouterr().out
    assert "3 checks" in out and "3 pass" in out
    # without a client certificate the node never answers: a set-up error
    assert main(["conformance", node.url, "--image", TEST_IMAGE, *selected, "--node-ca", str(certs.ca)]) == 3
    assert "SET-UP ERROR" in capsys.readouterr().out


def test_an_unreadable_client_certificate_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["conformance", "https://127.0.0.1:9", "--client-cert", str(tmp_path / "nope.pem")])
    assert exited.value.code == 2
    assert "--client-cert" in capsys.readouterr().err
