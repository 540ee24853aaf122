"""Package listings (Go FileMode bits, reference order) and content paths that stay in the package."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pytest_opspec.pkgs.beneath import BeneathError
from pytest_opspec.pkgs.contents import go_file_mode, list_contents, open_content


@pytest.mark.parametrize(("st_mode", "go_mode"), [
    (stat.S_IFREG | 0o644, 0o644),
    (stat.S_IFREG | 0o755, 0o755),
    (stat.S_IFDIR | 0o755, 2147484141),
    (stat.S_IFLNK | 0o777, (1 << 27) | 0o777),
    (stat.S_IFIFO | 0o600, (1 << 25) | 0o600),
    (stat.S_IFSOCK | 0o755, (1 << 24) | 0o755),
    (stat.S_IFBLK | 0o660, (1 << 26) | 0o660),
    (stat.S_IFCHR | 0o666, (1 << 26) | (1 << 21) | 0o666),
    (stat.S_IFREG | stat.S_ISUID | 0o755, (1 << 23) | 0o755),
    (stat.S_IFREG | stat.S_ISGID | 0o755, (1 << 22) | 0o755),
    (stat.S_IFDIR | stat.S_ISVTX | 0o777, (1 << 31) | (1 << 20) | 0o777),
])
def test_go_file_mode(st_mode: int, go_mode: int) -> None:
    assert go_file_mode(st_mode) == go_mode


def test_listing_order_is_bytewise_with_directories_after_their_contents(tmp_path: Path) -> None:
    for name in ("b/z", "b/a/x", "B", "a", "é"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    os.mkfifo(tmp_path / "pipe")
    paths = [entry["path"] for entry in list_contents(tmp_path)]
    assert paths == ["/B", "/a", "/b/a/x", "/b/a", "/b/z", "/b", "/pipe", "/é"]
    assert list_contents(tmp_path / "b" / "a") == [{"path": "/x", "size": 0, "mode": go_file_mode(
        os.stat(tmp_path / "b" / "a" / "x").st_mode)}]


def test_an_empty_dir_lists_as_an_empty_array(tmp_path: Path) -> None:
    assert list_contents(tmp_path) == []


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "f.txt").write_text("f")
    (tmp_path / "pkg-sibling").mkdir()
    (tmp_path / "pkg-sibling" / "s.txt").write_text("s")
    os.symlink("dir/f.txt", root / "ok-link")
    os.symlink("../pkg-sibling/s.txt", root / "sibling-link")  # shares the prefix "pkg"
    os.symlink("/etc", root / "etc-link")
    os.mkfifo(root / "fifo")
    return root


@pytest.mark.parametrize("path", ["/dir/f.txt", "dir/f.txt", "//dir//./f.txt", "/ok-link"])
def test_content_files_inside_the_package(pkg: Path, path: str) -> None:
    with open(open_content(pkg, path), "rb") as handle:
        assert handle.read() == b"f"


@pytest.mark.parametrize(("path", "kind"), [
    ("../pkg-sibling/s.txt", BeneathError.OUTSIDE),
    ("/dir/../../pkg-sibling/s.txt", BeneathError.OUTSIDE),
    ("/dir/..", BeneathError.OUTSIDE),
    ("/sibling-link", BeneathError.OUTSIDE),
    ("/etc-link/passwd", BeneathError.OUTSIDE),
    ("/etc/passwd", BeneathError.MISSING),
    ("/nope", BeneathError.MISSING),
    ("/dir/f.txt/x", BeneathError.MISSING),
    ("/dir", BeneathError.NOT_A_FILE),
    ("/", BeneathError.NOT_A_FILE),
    ("", BeneathError.NOT_A_FILE),
    ("/fifo", BeneathError.NOT_A_FILE),
    ("/a\x00b", BeneathError.INVALID),
])
def test_content_paths_that_cannot_be_served(pkg: Path, path: str, kind: str) -> None:
    with pytest.raises(BeneathError) as raised:
        open_content(pkg, path)
    assert raised.value.kind == kind
