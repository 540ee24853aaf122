"""GET|HEAD /pkgs/{ref}/contents[/{path}]: listings, files, ranges, traversal, credentials, errors."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from pytest_opspec.node.client import NodeClient, NodeError
from pytest_opspec.node.server import BackgroundNode

from .conftest import raw_request

TEXT = "0123456789abcdefghij"  # 20 bytes


def enc(text: str) -> str:
    """Percent-encode like Go's url.PathEscape, as opctl's client does (``/`` -> ``%2F``)."""
    return quote(text, safe="-_.~:@&=+$!*'(),;")


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    root = tmp_path / "pkgs" / "demo"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "op.yml").write_text("name: demo\n")
    (root / "sub" / "a.txt").write_text(TEXT)
    (root / "sub" / "deeper" / "z.bin").write_bytes(b"\x00\x01\x02")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "empty.txt").write_text("")
    os.chmod(root / "run.sh", 0o755)
    for directory in (root, root / "sub", root / "sub" / "deeper", root / "empty"):
        os.chmod(directory, 0o755)
    for file in (root / "op.yml", root / "sub" / "a.txt", root / "sub" / "deeper" / "z.bin", root / "empty.txt"):
        os.chmod(file, 0o644)
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    os.symlink("sub/a.txt", root / "inside-link")
    os.symlink(str(tmp_path / "secret.txt"), root / "outside-link")
    os.symlink("../../secret.txt", root / "sub" / "relative-outside")
    return root


def listing_target(pkg: Path) -> str:
    return f"/pkgs/{enc(str(pkg))}/contents"


def content_target(pkg: Path, path: str) -> str:
    return f"/pkgs/{enc(str(pkg))}/contents/{enc(path)}"


# -- listing ----------------------------------------------------------------------------------------

def test_listing_is_recursive_in_reference_order_with_go_file_modes(node: BackgroundNode, pkg: Path) -> None:
    response = raw_request(node.url, "GET", listing_target(pkg))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert int(response.headers["Content-Length"]) == len(response.body)
    entries = response.json()
    assert all(set(entry) == {"path", "size", "mode"} for entry in entries)
    assert [entry["path"] for entry in entries] == [
        "/empty", "/empty.txt", "/inside-link", "/op.yml", "/outside-link", "/run.sh",
        "/sub/a.txt", "/sub/deeper/z.bin", "/sub/deeper", "/sub/relative-outside", "/sub",
    ]
    by_path = {entry["path"]: entry for entry in entries}
    assert by_path["/sub"]["mode"] == 2147484141  # Go: ModeDir | 0755
    assert by_path["/op.yml"] == {"path": "/op.yml", "size": 11, "mode": 0o644}
    assert by_path["/run.sh"]["mode"] == 0o755
    assert by_path["/sub/a.txt"]["size"] == 20
    assert by_path["/inside-link"]["mode"] == (1 << 27) | 0o777  # Go: ModeSymlink, not followed
    assert by_path["/inside-link"]["size"] == len("sub/a.txt")


def test_listing_head_has_the_get_headers_and_no_body(node: BackgroundNode, pkg: Path) -> None:
    get = raw_request(node.url, "GET", listing_target(pkg))
    head = raw_request(node.url, "HEAD", listing_target(pkg))
    assert head.status == 200 and head.body == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_client_lists_contents(client: NodeClient, pkg: Path) -> None:
    assert {"path": "/sub/a.txt", "size": 20, "mode": 420} in client.list_contents(str(pkg))


@pytest.mark.parametrize(("ref", "status", "code"), [
    ("/no/such/package", 404, "PKG_NOT_FOUND"),
    ("relative/package", 404, "PKG_NOT_FOUND"),
    ("github.com/opspec-pkgs/git clone#1.0.0", 400, "INVALID_PKG_REF"),
    ("https://example.com/pkg", 400, "INVALID_PKG_REF"),
])
def test_listing_refs_that_are_not_local_packages(node: BackgroundNode, ref: str, status: int, code: str) -> None:
    response = raw_request(node.url, "GET", f"/pkgs/{enc(ref)}/contents")
    assert (response.status, response.json()["code"]) == (status, code)


def test_listing_a_dir_that_is_not_a_package_or_a_file_is_404(node: BackgroundNode, pkg: Path) -> None:
    for ref in (pkg / "sub", pkg / "op.yml"):
        response = raw_request(node.url, "GET", f"/pkgs/{enc(str(ref))}/contents")
        assert (response.status, response.json()["code"]) == (404, "PKG_NOT_FOUND")


def test_a_malformed_escape_is_400_for_a_listing_and_404_for_content(node: BackgroundNode, pkg: Path) -> None:
    response = raw_request(node.url, "GET", "/pkgs/%2Ftmp%zz/contents")
    assert (response.status, response.json()["code"]) == (400, "INVALID_PKG_REF")
    # the seed lists no 400 for content: what cannot be read is not found
    for method in ("GET", "HEAD"):
        response = raw_request(node.url, method, f"/pkgs/{enc(str(pkg))}/contents/a%zz")
        assert response.status == 404
    assert raw_request(node.url, "GET", f"/pkgs/{enc(str(pkg))}/contents/a%zz").json()["code"] == "INVALID_PATH"
    response = raw_request(node.url, "GET", "/pkgs/%2Ftmp%zz/contents/op.yml")
    assert (response.status, response.json()["code"]) == (404, "INVALID_PKG_REF")


@pytest.mark.parametrize(("ref", "code"), [
    ("github.com/opspec-pkgs/git clone#1.0.0", "INVALID_PKG_REF"),
    ("https://example.com/pkg", "INVALID_PKG_REF"),
])
def test_content_of_refs_the_node_does_not_resolve_is_404(node: BackgroundNode, ref: str, code: str) -> None:
    response = raw_request(node.url, "GET", f"/pkgs/{enc(ref)}/contents/op.yml")
    assert (response.status, response.json()["code"]) == (404, code)


@pytest.mark.parametrize(("error", "status", "code"), [
    (PermissionError(13, "Permission denied"), 403, "PKG_READ_FORBIDDEN"),
    (OSError(5, "Input/output error"), 500, "PKG_READ_FAILED"),
])
def test_listing_failures(node: BackgroundNode, pkg: Path, monkeypatch: pytest.MonkeyPatch, error: OSError,
                          status: int, code: str) -> None:
    from pytest_opspec.node import pkgs_contents

    def failing(pkg_dir: object) -> list[dict[str, object]]:
        raise error

    monkeypatch.setattr(pkgs_contents, "list_contents", failing)
    for method in ("GET", "HEAD"):
        response = raw_request(node.url, method, listing_target(pkg))
        assert response.status == status
    assert raw_request(node.url, "GET", listing_target(pkg)).json()["code"] == code


# -- content ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["op.yml", "/op.yml", "%2Fop.yml"])
def test_content_with_or_without_leading_slash(node: BackgroundNode, pkg: Path, path: str) -> None:
    target = f"/pkgs/{enc(str(pkg))}/contents/{path if '%' in path else enc(path)}"
    response = raw_request(node.url, "GET", target)
    assert response.status == 200
    assert response.body == b"name: demo\n"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Length"] == "11"


def test_content_of_nested_files_encoded_or_as_segments(node: BackgroundNode, pkg: Path) -> None:
    assert raw_request(node.url, "GET", content_target(pkg, "/sub/a.txt")).body == TEXT.encode()
    assert raw_request(node.url, "GET", f"/pkgs/{enc(str(pkg))}/contents/sub/a.txt").body == TEXT.encode()
    assert raw_request(node.url, "GET", content_target(pkg, "/inside-link")).body == TEXT.encode()


def test_content_type_follows_the_extension_or_the_content(node: BackgroundNode, pkg: Path) -> None:
    assert raw_request(node.url, "GET", content_target(pkg, "/sub/a.txt")).headers["Content-Type"] == \
        "text/plain; charset=utf-8"
    assert raw_request(node.url, "GET", content_target(pkg, "/sub/deeper/z.bin")).headers["Content-Type"] == \
        "application/octet-stream"


def test_content_head(node: BackgroundNode, pkg: Path) -> None:
    response = raw_request(node.url, "HEAD", content_target(pkg, "/sub/a.txt"))
    assert (response.status, response.body) == (200, b"")
    assert response.headers["Content-Length"] == "20"
    assert response.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(("header", "body", "content_range"), [
    ("bytes=0-4", b"01234", "bytes 0-4/20"),
    ("bytes=15-", b"fghij", "bytes 15-19/20"),
    ("bytes=-3", b"hij", "bytes 17-19/20"),
    ("bytes=18-100", b"ij", "bytes 18-19/20"),
    ("bytes=-100", TEXT.encode(), "bytes 0-19/20"),
    ("BYTES = 5-5", b"5", "bytes 5-5/20"),
    ("bytes=30-40, 2-3", b"23", "bytes 2-3/20"),
])
def test_one_range_is_a_206_with_content_range(node: BackgroundNode, pkg: Path, header: str, body: bytes,
                                              content_range: str) -> None:
    response = raw_request(node.url, "GET", content_target(pkg, "/sub/a.txt"), headers={"Range": header})
    assert response.status == 206
    assert response.body == body
    assert response.headers["Content-Range"] == content_range
    assert response.headers["Content-Length"] == str(len(body))
    head = raw_request(node.url, "HEAD", content_target(pkg, "/sub/a.txt"), headers={"Range": header})
    assert (head.status, head.body, head.headers["Content-Range"]) == (206, b"", content_range)


def test_several_ranges_are_multipart_byteranges(node: BackgroundNode, pkg: Path) -> None:
    response = raw_request(node.url, "GET", content_target(pkg, "/sub/a.txt"), headers={"Range": "bytes=0-1,5-7,-2"})
    assert response.status == 206
    content_type = response.headers["Content-Type"]
    boundary = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", content_type)[1]
    assert int(response.headers["Content-Length"]) == len(response.body)
    parts = response.body.split(f"--{boundary}".encode())
    assert parts[0] == b"" and parts[-1] == b"--\r\n"
    found = []
    for part in parts[1:-1]:
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
        found.append((headers["Content-Range"], data.removesuffix(b"\r\n")))
    assert found == [("bytes 0-1/20", b"01"), ("bytes 5-7/20", b"567"), ("bytes 18-19/20", b"ij")]


@pytest.mark.parametrize("header", ["bytes=20-", "bytes=25-30", "bytes=-0", "bytes=20-21,30-"])
def test_an_unsatisfiable_range_is_a_416(node: BackgroundNode, pkg: Path, header: str) -> None:
    response = raw_request(node.url, "GET", content_target(pkg, "/sub/a.txt"), headers={"Range": header})
    assert response.status == 416
    assert response.headers["Content-Range"] == "bytes */20"
    assert response.json()["code"] == "RANGE_NOT_SATISFIABLE"
    head = raw_request(node.url, "HEAD", content_target(pkg, "/sub/a.txt"), headers={"Range": header})
    assert (head.status, head.body) == (416, b"")


def test_any_range_of_an_empty_file_is_a_416(node: BackgroundNode, pkg: Path) -> None:
    response = raw_request(node.url, "GET", content_target(pkg, "/empty.txt"), headers={"Range": "bytes=0-"})
    assert (response.status, response.headers["Content-Range"]) == (416, "bytes */0")
    assert raw_request(node.url, "GET", content_target(pkg, "/empty.txt")).body == b""


@pytest.mark.parametrize("header", ["bytes=5-2", "bytes=abc", "bytes=", "items=0-1", "0-1", "bytes=1-2-3",
                                    "bytes=0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,"
                                    "0-0,0-0,0-0"])
def test_a_malformed_or_excessive_range_is_ignored(node: BackgroundNode, pkg: Path, header: str) -> None:
    response = raw_request(node.url, "GET", content_target(pkg, "/sub/a.txt"), headers={"Range": header})
    assert (response.status, response.body) == (200, TEXT.encode())


def test_if_range_sends_the_whole_file(node: BackgroundNode, pkg: Path) -> None:
    response = raw_request(node.url, "GET", content_target(pkg, "/sub/a.txt"),
                           headers={"Range": "bytes=0-1", "If-Range": '"some-etag"'})
    assert (response.status, response.body) == (200, TEXT.encode())


def test_client_gets_content_and_ranges(client: NodeClient, pkg: Path) -> None:
    assert client.get_content(str(pkg), "/sub/a.txt") == TEXT.encode()
    assert client.get_content(str(pkg), "/sub/a.txt", range="bytes=2-3") == b"23"
    with pytest.raises(NodeError) as raised:
        client.get_content(str(pkg), "/nope")
    assert (raised.value.status, raised.value.code) == (404, "CONTENT_NOT_FOUND")


@pytest.mark.parametrize(("path", "code"), [
    ("/missing.txt", "CONTENT_NOT_FOUND"),
    ("/sub/a.txt/more", "CONTENT_NOT_FOUND"),
    ("/sub", "NOT_A_FILE"),
    ("/", "NOT_A_FILE"),
    ("/empty", "NOT_A_FILE"),
    ("/etc/passwd", "CONTENT_NOT_FOUND"),  # paths are package-absolute: this is <pkg>/etc/passwd
])
def test_missing_content_is_404(node: BackgroundNode, pkg: Path, path: str, code: str) -> None:
    response = raw_request(node.url, "GET", content_target(pkg, path))
    assert (response.status, response.json()["code"]) == (404, code)
    assert raw_request(node.url, "HEAD", content_target(pkg, path)).status == 404


@pytest.mark.parametrize("raw_path", [
    "../../secret.txt",                  # raw dot segments
    "sub/../../../secret.txt",
    "%2e%2e/%2e%2e/secret.txt",          # encoded dots
    "%2E%2E%2F%2E%2E%2Fsecret.txt",      # encoded dots and slashes
    "%2F..%2F..%2Fsecret.txt",
    "..%2F..%2Fsecret.txt",
    "outside-link",                      # symlinks pointing outside
    "sub%2Frelative-outside",
])
def test_paths_never_leave_the_package(node: BackgroundNode, pkg: Path, raw_path: str) -> None:
    response = raw_request(node.url, "GET", f"/pkgs/{enc(str(pkg))}/contents/{raw_path}")
    assert response.status == 403
    assert response.json()["code"] == "PATH_OUTSIDE_PKG"
    assert b"TOP SECRET" not in response.body
    assert raw_request(node.url, "HEAD", f"/pkgs/{enc(str(pkg))}/contents/{raw_path}").status == 403


def test_a_ref_with_dot_segments_resolves_to_its_package(node: BackgroundNode, pkg: Path) -> None:
    ref = f"{pkg}/sub/.."
    assert raw_request(node.url, "GET", f"/pkgs/{enc(ref)}/contents/op.yml").body == b"name: demo\n"


@pytest.mark.parametrize("authorization", ["Basic Og==", "Basic dXNlcjpwYXNz", "basic dXNlcjpwYXNz"])
def test_basic_credentials_are_accepted_and_ignored(node: BackgroundNode, pkg: Path, authorization: str) -> None:
    headers = {"Authorization": authorization}
    assert raw_request(node.url, "GET", listing_target(pkg), headers=headers).status == 200
    assert raw_request(node.url, "GET", content_target(pkg, "op.yml"), headers=headers).status == 200


@pytest.mark.parametrize("authorization", ["Bearer abc", "Basic !!!", "Basic dXNlcg=="])
def test_malformed_credentials_are_401(node: BackgroundNode, pkg: Path, authorization: str) -> None:
    for target in (listing_target(pkg), content_target(pkg, "op.yml")):
        response = raw_request(node.url, "GET", target, headers={"Authorization": authorization})
        assert response.status == 401
        assert response.json()["code"] == "INVALID_CREDENTIALS"
        assert response.headers["WWW-Authenticate"] == 'Basic realm="opspec node"'
        assert raw_request(node.url, "HEAD", target, headers={"Authorization": authorization}).status == 401


def test_pkgs_routes_accept_only_get_and_head(node: BackgroundNode, pkg: Path) -> None:
    for target in (listing_target(pkg), content_target(pkg, "op.yml")):
        response = raw_request(node.url, "POST", target)
        assert (response.status, response.headers["Allow"]) == (405, "GET, HEAD")


@pytest.mark.parametrize(("error", "status", "code"), [
    (PermissionError(13, "Permission denied"), 403, "PKG_READ_FORBIDDEN"),
    (OSError(5, "Input/output error"), 500, "PKG_READ_FAILED"),
])
def test_file_read_failures(node: BackgroundNode, pkg: Path, monkeypatch: pytest.MonkeyPatch, error: OSError,
                            status: int, code: str) -> None:
    from pytest_opspec.node import pkgs_contents

    def failing(pkg_dir: object, path: str) -> int:
        raise error

    monkeypatch.setattr(pkgs_contents, "open_content", failing)
    for method in ("GET", "HEAD"):
        assert raw_request(node.url, method, content_target(pkg, "op.yml")).status == status
    assert raw_request(node.url, "GET", content_target(pkg, "op.yml")).json()["code"] == code


def test_swapping_a_subdir_for_a_symlink_never_serves_files_outside(node: BackgroundNode, tmp_path: Path) -> None:
    """The swap races the node's path resolution; a check-then-open node served the outside file
    hundreds of times in 20,000 requests. Bounded: 1,500 requests."""
    pkg = tmp_path / "racy"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "op.yml").write_text("name: racy\n")
    (pkg / "sub" / "f.txt").write_text("inside")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.txt").write_text("OUTSIDE")
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            os.rename(pkg / "sub", pkg / "parked")
            os.symlink(outside, pkg / "sub")
            os.unlink(pkg / "sub")
            os.rename(pkg / "parked", pkg / "sub")

    swapper = threading.Thread(target=swap, daemon=True)
    bodies: dict[bytes, int] = {}
    statuses: dict[int, int] = {}
    url = f"{node.url}/pkgs/{enc(str(pkg))}/contents/{enc('/sub/f.txt')}"
    swapper.start()
    try:
        with requests.Session() as session:
            for _ in range(1500):
                response = session.get(url, timeout=30)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code == 200:
                    bodies[response.content] = bodies.get(response.content, 0) + 1
    finally:
        stop.set()
        swapper.join()
    assert b"OUTSIDE" not in bodies, f"served the outside file {bodies.get(b'OUTSIDE')} times"
    assert bodies.get(b"inside", 0) > 0  # the race was really run against a working path
    assert set(statuses) <= {200, 403, 404}, statuses
