"""Bounded input: deep or large JSON bodies, long refs and content paths, deep packages, and the
symlink-swap race on content serving. Every answer is a 4xx naming the limit, never a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Callable
from urllib.parse import quote

import pytest

from pytest_opspec.cli import main
from pytest_opspec.node.server import BackgroundNode

from .conftest import NodeFactory, raw_request


def enc(text: str) -> str:
    return quote(text, safe="")


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "op.yml").write_text("name: pkg\n")
    return root


@pytest.mark.parametrize("depth", [101, 1000, 100_000])
def test_deeply_nested_args_are_400(node: BackgroundNode, pkg: Path, depth: int) -> None:
    body = ('{"pkg": {"ref": "%s"}, "args": {"x": {"array": %s%s}}}' % (pkg, "[" * depth, "]" * depth)).encode()
    response = raw_request(node.url, "POST", "/ops/starts", body)
    assert response.status == 400
    assert response.json()["code"] == "JSON_TOO_DEEP"
    assert "100 levels" in response.json()["message"]


def test_args_nested_within_the_limit_are_fine(node: BackgroundNode, pkg: Path) -> None:
    body = ('{"pkg": {"ref": "%s"}, "args": {"x": {"array": %s%s}}}' % (pkg, "[" * 90, "]" * 90)).encode()
    response = raw_request(node.url, "POST", "/ops/starts", body)
    assert response.status == 201  # the op fails later: it declares no input x


def test_a_body_over_the_size_limit_is_400(node_factory: NodeFactory, pkg: Path) -> None:
    small = node_factory(max_body_bytes=10_000)
    body = ('{"pkg": {"ref": "%s"}, "args": {"x": {"string": "%s"}}}' % (pkg, "y" * 20_000)).encode()
    response = raw_request(small.url, "POST", "/ops/starts", body)
    assert response.status == 400
    assert response.json()["code"] == "BODY_TOO_LARGE"
    assert "10000 bytes" in response.json()["message"]


@pytest.mark.parametrize("path", ["a" * 5000, "a/" * 2500, "b" * 300, "/".join(["c" * 200] * 30)])
def test_overlong_content_paths_are_404(node: BackgroundNode, pkg: Path, path: str) -> None:
    response = raw_request(node.url, "GET", f"/pkgs/{enc(str(pkg))}/contents/{quote(path, safe='/')}")
    assert response.status == 404
    assert response.json()["code"] == "PATH_TOO_LONG"


def test_a_request_line_over_8_kb_is_400(node: BackgroundNode, pkg: Path) -> None:
    assert raw_request(node.url, "GET", f"/pkgs/{enc(str(pkg))}/contents/{'a' * 9000}").status == 400


def test_overlong_refs_are_refused(node: BackgroundNode) -> None:
    ref = "/" + "r" * 5000
    listing = raw_request(node.url, "GET", f"/pkgs/{enc(ref)}/contents")
    assert listing.status == 400
    assert listing.json()["code"] == "INVALID_PKG_REF"
    content = raw_request(node.url, "GET", f"/pkgs/{enc(ref)}/contents/op.yml")
    assert content.status == 404
    start = raw_request(node.url, "POST", "/ops/starts", ('{"pkg": {"ref": "%s"}}' % ref).encode())
    assert start.status == 400
    assert "4096" in start.json()["message"]


def test_a_package_with_1500_nested_dirs_is_listed(node: BackgroundNode, pkg: Path,
                                                   deep_tree: Callable[..., None]) -> None:
    deep_tree(pkg, 1500)
    response = raw_request(node.url, "GET", f"/pkgs/{enc(str(pkg))}/contents")
    assert response.status == 200
    paths = [entry["path"] for entry in response.json()]
    assert len(paths) == 1501
    assert paths[0] == "/d" * 1500 and paths[-1] == "/op.yml"


@pytest.mark.parametrize("args_file", ["/dev/zero", "big.yml"])
def test_args_files_are_bounded(pkg: Path, tmp_path: Path, args_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "big.yml").write_text("x: '" + "y" * 1_100_000 + "'\n")
    with pytest.raises(SystemExit) as exited:
        main(["run", str(pkg), "--args-file", str(tmp_path / args_file) if args_file == "big.yml" else args_file])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--args-file" in err and "larger than the 1 MB limit" in err
