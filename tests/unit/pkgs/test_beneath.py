"""Opening and listing beneath a directory descriptor: symlinks resolved inside, never out; deep trees."""

from __future__ import annotations

import os
import resource
from pathlib import Path
from typing import Callable, Iterator

import pytest

from pytest_opspec.pkgs.beneath import (
    BeneathError,
    open_dir,
    open_file_beneath,
    walk_tree,
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text("A")
    (root / "sub" / "deeper" / "z.txt").write_text("Z")
    (tmp_path / "secret.txt").write_text("SECRET")
    os.symlink("sub/a.txt", root / "inside-link")
    os.symlink("sub", root / "dir-link")
    os.symlink("deeper/../a.txt", root / "sub" / "dotdot-inside")
    os.symlink(str(root / "sub" / "a.txt"), root / "absolute-inside")
    os.symlink(str(tmp_path / "secret.txt"), root / "absolute-outside")
    os.symlink("../secret.txt", root / "relative-outside")
    os.symlink("../../secret.txt", root / "sub" / "two-up-outside")
    os.symlink("loop-b", root / "loop-a")
    os.symlink("loop-a", root / "loop-b")
    os.mkfifo(root / "fifo")
    return root


@pytest.fixture
def root_fd(tree: Path) -> Iterator[int]:
    fd = open_dir(tree)
    yield fd
    os.close(fd)


def read(root_fd: int, path: str) -> bytes:
    fd, _ = open_file_beneath(root_fd, path)
    try:
        return os.read(fd, 100)
    finally:
        os.close(fd)


@pytest.mark.parametrize("path", ["/sub/a.txt", "sub/a.txt", "/inside-link", "/dir-link/a.txt",
                                  "/sub/dotdot-inside", "/absolute-inside", "//sub/./a.txt"])
def test_paths_inside_the_tree_are_read_also_through_symlinks(root_fd: int, path: str) -> None:
    assert read(root_fd, path) == b"A"


@pytest.mark.parametrize("path", ["/absolute-outside", "/relative-outside", "/sub/two-up-outside", "/../secret.txt",
                                  "/sub/../../secret.txt"])
def test_paths_leading_outside_are_refused(root_fd: int, path: str) -> None:
    with pytest.raises(BeneathError) as raised:
        read(root_fd, path)
    assert raised.value.kind == BeneathError.OUTSIDE


@pytest.mark.parametrize(("path", "kind"), [
    ("/nope", BeneathError.MISSING), ("/sub/a.txt/x", BeneathError.MISSING), ("/loop-a", BeneathError.MISSING),
    ("/sub", BeneathError.NOT_A_FILE), ("/dir-link", BeneathError.NOT_A_FILE), ("/", BeneathError.NOT_A_FILE),
    ("/fifo", BeneathError.NOT_A_FILE), ("/a\x00b", BeneathError.INVALID),
    ("/" + "a" * 5000, BeneathError.TOO_LONG), ("/" + "a/" * 2500, BeneathError.TOO_LONG),
    ("/" + "a" * 300, BeneathError.TOO_LONG),
])
def test_unreadable_paths_say_why(root_fd: int, path: str, kind: str) -> None:
    with pytest.raises(BeneathError) as raised:
        read(root_fd, path)
    assert raised.value.kind == kind
    assert len(str(raised.value)) < 400


def test_no_descriptor_leaks(root_fd: int) -> None:
    before = len(os.listdir("/proc/self/fd"))
    for path in ("/sub/a.txt", "/absolute-outside", "/sub/two-up-outside", "/nope", "/sub", "/loop-a"):
        try:
            read(root_fd, path)
        except BeneathError:
            pass
    walk_tree(root_fd)
    assert len(os.listdir("/proc/self/fd")) == before


def test_listing_is_in_reference_order_and_does_not_follow_symlinks(root_fd: int) -> None:
    assert [entry.path for entry in walk_tree(root_fd)] == [
        "/absolute-inside", "/absolute-outside", "/dir-link", "/fifo", "/inside-link", "/loop-a", "/loop-b",
        "/relative-outside", "/sub/a.txt", "/sub/deeper/z.txt", "/sub/deeper", "/sub/dotdot-inside",
        "/sub/two-up-outside", "/sub",
    ]


def test_deep_trees_are_listed_iteratively_with_few_descriptors(tmp_path: Path,
                                                               deep_tree: Callable[..., None]) -> None:
    deep_tree(tmp_path, 1500, "bottom.txt")
    fd = open_dir(tmp_path)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # A chain of 1,500 directories must not hold 1,500 descriptors (nor recurse 1,500 frames deep).
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 20, hard))
    try:
        entries = walk_tree(fd)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        os.close(fd)
    assert len(entries) == 1501
    assert entries[0].path == "/d" * 1500 + "/bottom.txt"
    assert entries[-1].path == "/d"


def test_listing_limits_are_clear_errors(tmp_path: Path, deep_tree: Callable[..., None]) -> None:
    deep_tree(tmp_path, 30, "bottom.txt")
    fd = open_dir(tmp_path)
    try:
        with pytest.raises(BeneathError, match="deeper than 20 levels") as raised:
            walk_tree(fd, max_depth=20)
        assert raised.value.kind == BeneathError.TOO_LARGE
        with pytest.raises(BeneathError, match="more than 10 entries"):
            walk_tree(fd, max_entries=10)
    finally:
        os.close(fd)

