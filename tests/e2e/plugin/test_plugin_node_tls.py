"""The plugin against a node that serves mutual TLS: `--opspec-node-url https://...` with the client
certificate options (flag, env), and a clear failure without a certificate."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from pytest_opspec.backends.runtime import make_runtime
from pytest_opspec.node.core import Node, NodeSettings
from pytest_opspec.node.server import BackgroundNode
from pytest_opspec.node.tls import ServerTLS
from tests.support import IMAGE_MAP, assert_no_resources
from tests.support.certs import Certs, make_certs

from .test_plugin_runs import GREET, INI, write


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def tls_node(certs: Certs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundNode]:
    settings = NodeSettings(data_dir=tmp_path_factory.mktemp("tls-node"),
                            tls=ServerTLS(certs.server.cert, certs.server.key, certs.ca))
    with BackgroundNode(Node(settings, make_runtime(image_map=IMAGE_MAP))) as running:
        yield running
    assert_no_resources(running.node.executor.owner)


def test_scenarios_and_node_client_over_mutual_tls(tls_node: BackgroundNode, certs: Certs,
                                                   pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini(INI)
    write(pytester.path, "ops/greet/op.yml", GREET)
    write(pytester.path, "ops/greet/scenarios.yml", "- call: { expect: success, outputs: { greeting: hi world } }\n")
    write(pytester.path, "ops/test_tls.py", """
        def test_client(node_client):
            assert node_client.base_url.startswith("https://")
            assert node_client.liveness()
    """)
    monkeypatch.setenv("OPSPEC_NODE_CLIENT_KEY", str(certs.client.key))  # env and flags mix, as any option
    result = pytester.runpytest("--opspec", "ops", "--opspec-node-url", tls_node.url, "--opspec-node-ca",
                                str(certs.ca), "--opspec-node-client-cert", str(certs.client.cert),
                                "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_without_a_client_certificate_call_items_error_in_one_sentence(tls_node: BackgroundNode, certs: Certs,
                                                                      pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    write(pytester.path, "ops/greet/op.yml", GREET)
    write(pytester.path, "ops/greet/scenarios.yml", "- call: { expect: success }\n")
    result = pytester.runpytest("--opspec", "ops", "--opspec-node-url", tls_node.url, "--opspec-node-ca",
                                str(certs.ca), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)  # a node that refuses us is not the op failing: an error
    result.stdout.fnmatch_lines([f"*the node at {tls_node.url} closed the connection without answering; a node "
                                 "serving mutual TLS does so to clients that present no certificate it accepts*"])


def test_a_missing_certificate_file_is_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeini(INI)
    result = pytester.runpytest("--opspec-node-url", "https://127.0.0.1:9", "--opspec-node-client-cert",
                                str(tmp_path / "nope.pem"), "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--opspec-node-client-cert*nope.pem*"])
