"""The node with remote refs: POST /ops/starts and GET /pkgs/{ref}/contents against the real git server."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from pytest_opspec.events import EventType, Outcome
from pytest_opspec.node.client import NodeClient
from pytest_opspec.node.server import BackgroundNode

from tests.support.gitserver import ECHO_OP, PRIVATE_USERS, GitServer
from .conftest import NodeFactory, raw_request

ECHO = "github.com/pytest-opspec/echo#1.0.0"
SECRET = "github.com/acme/secret-echo#1.0.0"


def enc(text: str) -> str:
    return quote(text, safe="")


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def remote_node(git_env: GitServer, node_factory: NodeFactory, tmp_path: Path) -> BackgroundNode:
    return node_factory(pkg_cache=tmp_path / "node-cache")


def start(node: BackgroundNode, ref: str, creds: dict[str, str] | None = None):
    pkg: dict = {"ref": ref}
    if creds is not None:
        pkg["pullCreds"] = creds
    return raw_request(node.url, "POST", "/ops/starts", json.dumps({"pkg": pkg}).encode(),
                       {"Content-Type": "application/json"})


def test_a_remote_ref_starts_and_runs(remote_node: BackgroundNode) -> None:
    response = start(remote_node, ECHO)
    assert response.status == 201, response.body
    with NodeClient(remote_node.url, timeout=30) as client:
        events = client.wait_for_end(response.body.decode(), timeout=60)
    ended = events[-1]
    assert ended.type is EventType.OP_ENDED and ended.outcome is Outcome.SUCCEEDED
    assert ended.pkg_ref == ECHO


@pytest.mark.parametrize("ref, creds, code", [
    ("github.com/acme/x", None, "PKG_NOT_FOUND"),  # no #: a local ref, relative: not found
    ("github.com/acme/my pkg#1.0.0", None, "INVALID_PKG_REF"),
    ("github.com/pytest-opspec/echo#9.9.9", None, "PKG_NOT_FOUND"),
    (SECRET, None, "PKG_PULL_AUTHENTICATION"),
    (SECRET, {"username": "alice", "password": "Wr0ng-Pa55"}, "PKG_PULL_AUTHENTICATION"),
    (SECRET, {"username": "mallory", "password": PRIVATE_USERS["mallory"]}, "PKG_PULL_AUTHORIZATION"),
])
def test_an_unresolvable_start_is_a_400_with_its_code(remote_node: BackgroundNode, ref: str, creds, code: str) -> None:
    response = start(remote_node, ref, creds)
    body = json.loads(response.body)
    assert (response.status, body["code"]) == (400, code)
    assert "Wr0ng-Pa55" not in body["message"] and PRIVATE_USERS["mallory"] not in body["message"]


def test_concurrent_starts_of_an_uncached_ref_clone_it_once(git_env: GitServer, remote_node: BackgroundNode) -> None:
    name = f"github.com/pytest-opspec/node-once-{uuid.uuid4().hex[:8]}"
    git_env.repo(name, {"op.yml": ECHO_OP})
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(start(remote_node, f"{name}#1.0.0").status))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [201] * 4 and git_env.fetches[name] == 1


def test_listing_a_public_remote_package_reports_its_provenance(git_env: GitServer,
                                                                remote_node: BackgroundNode) -> None:
    response = raw_request(remote_node.url, "GET", f"/pkgs/{enc(ECHO)}/contents")
    assert response.status == 200
    assert [entry["path"] for entry in json.loads(response.body)] == ["/README.md", "/op.yml"]
    assert response.headers["Opspec-Pkg-Commit"] == git_env.commit_of("github.com/pytest-opspec/echo", "1.0.0")
    assert response.headers["Opspec-Pkg-Digest"].startswith("sha256:")
    content = raw_request(remote_node.url, "GET", f"/pkgs/{enc(ECHO)}/contents/{enc('/op.yml')}")
    assert content.status == 200 and content.body.decode() == ECHO_OP


def test_a_private_package_needs_valid_credentials_even_when_cached(remote_node: BackgroundNode) -> None:
    target = f"/pkgs/{enc(SECRET)}/contents"
    missing = raw_request(remote_node.url, "GET", target)
    assert missing.status == 401 and missing.headers["WWW-Authenticate"].startswith("Basic")
    wrong = raw_request(remote_node.url, "GET", target, headers=basic("alice", "wrong"))
    assert wrong.status == 401 and wrong.headers["WWW-Authenticate"].startswith("Basic")
    forbidden = raw_request(remote_node.url, "GET", target, headers=basic("mallory", PRIVATE_USERS["mallory"]))
    assert forbidden.status == 403
    allowed = raw_request(remote_node.url, "GET", target, headers=basic("alice", PRIVATE_USERS["alice"]))
    assert allowed.status == 200 and "/op.yml" in allowed.body.decode()
    # Now cached: still nothing without valid credentials, for listings and contents alike.
    for path in (target, f"{target}/{enc('/op.yml')}"):
        assert raw_request(remote_node.url, "GET", path).status == 401
        assert raw_request(remote_node.url, "GET", path, headers=basic("alice", "wrong")).status == 401
        assert raw_request(remote_node.url, "GET", path, headers=basic("mallory", PRIVATE_USERS["mallory"])).status == 403
    assert raw_request(remote_node.url, "GET", f"{target}/{enc('/op.yml')}",
                       headers=basic("alice", PRIVATE_USERS["alice"])).status == 200


def test_a_package_the_git_server_cannot_deliver_is_404_not_a_node_failure(remote_node: BackgroundNode) -> None:
    response = raw_request(remote_node.url, "GET", f"/pkgs/{enc('github.com/acme/garbage#1.0.0')}/contents")
    body = json.loads(response.body)
    assert (response.status, body["code"]) == (404, "PKG_FETCH_FAILED")
    assert "github.com/acme/garbage#1.0.0" in body["message"]
