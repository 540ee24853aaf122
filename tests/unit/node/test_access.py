"""The node's access policy on its own: loopback names, origins, hosts, CORS, mount restrictions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_opspec.node.access import AccessPolicy, is_loopback, is_wildcard, normalize_host
from pytest_opspec.node.errors import ApiError
from pytest_opspec.options import web_origin
from pytest_opspec.values import Value


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.1.2.3", "::1", "[::1]"])
def test_loopback_names(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.0.0.1", "example.com", "localhost.example.com",
                                  "127.0.0.1.nip.io", "evil.localhost"])
def test_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_wildcards() -> None:
    assert is_wildcard("0.0.0.0") and is_wildcard("::") and is_wildcard("[::]") and is_wildcard("")
    assert not is_wildcard("127.0.0.1")


@pytest.mark.parametrize(("text", "origin"), [
    ("http://localhost:3000", "http://localhost:3000"), ("HTTP://UI.Example", "http://ui.example"),
    ("https://ui.example:443", "https://ui.example"), ("http://ui.example:80/", "http://ui.example"),
    ("http://[::1]:8080", "http://[::1]:8080"), ("null", "null"),
])
def test_origins_are_normalised(text: str, origin: str) -> None:
    assert web_origin(text) == origin


@pytest.mark.parametrize("text", ["ui.example", "http://ui.example/app", "http://user@ui.example", "*",
                                  "http://ui.example:99999", "http://"])
def test_malformed_origins_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not an origin"):
        web_origin(text)


@pytest.mark.parametrize(("header", "name"), [("localhost:42224", "localhost"), ("[::1]:80", "::1"),
                                              ("Node.Example.", "node.example"), ("10.0.0.5", "10.0.0.5")])
def test_host_headers_lose_their_port(header: str, name: str) -> None:
    assert normalize_host(header) == name


def refusal(policy: AccessPolicy, headers: dict[str, str]) -> str | None:
    try:
        policy.check_request(headers)
    except ApiError as error:
        assert error.status == 403
        return error.code.value
    return None


def test_default_policy_admits_loopback_clients_without_origin() -> None:
    policy = AccessPolicy()
    assert refusal(policy, {"Host": "127.0.0.1:42224"}) is None
    assert refusal(policy, {"Host": "localhost:42224"}) is None
    assert refusal(policy, {"Host": "[::1]:42224"}) is None
    assert refusal(policy, {}) is None
    assert refusal(policy, {"Host": "rebound.example:42224"}) == "HOST_NOT_ALLOWED"
    assert refusal(policy, {"Host": "127.0.0.1:42224", "Origin": "http://evil.example"}) == "ORIGIN_NOT_ALLOWED"
    assert refusal(policy, {"Host": "127.0.0.1:42224", "Origin": "null"}) == "ORIGIN_NOT_ALLOWED"
    assert policy.cors_headers({"Origin": "http://evil.example"}, "GET") == {}


def test_allowed_hosts_and_origins() -> None:
    policy = AccessPolicy.build(origins=["http://localhost:3000"], hosts=["node.example"])
    assert refusal(policy, {"Host": "node.example:42224", "Origin": "http://LOCALHOST:3000"}) is None
    assert refusal(policy, {"Host": "other.example"}) == "HOST_NOT_ALLOWED"
    assert refusal(policy, {"Origin": "http://localhost:3001"}) == "ORIGIN_NOT_ALLOWED"
    cors = policy.cors_headers({"Origin": "http://localhost:3000"}, "OPTIONS")
    assert cors["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert cors["Vary"] == "Origin"
    assert "POST" in cors["Access-Control-Allow-Methods"]


def test_mounts_are_unrestricted_without_allow_mount() -> None:
    args = {"root": Value.dir("/"), "name": Value.string("/etc/passwd")}
    assert AccessPolicy().check_mounts(args) == args


def test_allow_mount_restricts_dir_file_and_socket_args(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    (allowed / "sub").mkdir(parents=True)
    (allowed / "f.txt").write_text("x")
    os.symlink(allowed, tmp_path / "link-to-allowed")
    os.symlink("/etc", allowed / "escape")
    policy = AccessPolicy.build(mounts=[allowed])
    checked = policy.check_mounts({"src": Value.dir(tmp_path / "link-to-allowed" / "sub"),
                                   "f": Value.file(allowed / "f.txt"), "net": Value.socket("somehost"),
                                   "text": Value.string("/etc")})
    assert checked["src"] == Value.dir(str(allowed / "sub"))
    assert checked["net"] == Value.socket("somehost")
    for name, value in {"root": Value.dir("/"), "escape": Value.dir(allowed / "escape"),
                        "sibling": Value.file(tmp_path / "allowed-not"),
                        "engine": Value.socket("/var/run/docker.sock")}.items():
        with pytest.raises(ApiError) as raised:
            policy.check_mounts({name: value})
        assert raised.value.status == 400
        assert raised.value.code.value == "MOUNT_NOT_ALLOWED"
        assert f"arg {name!r}" in raised.value.message
        assert "--allow-mount" in raised.value.message
