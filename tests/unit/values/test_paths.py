"""Go-style path joining: concatenate, then clean (never os.path.join semantics)."""

from __future__ import annotations

import os.path
import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_opspec.values.paths import go_clean, go_join


@pytest.mark.parametrize(
    ("elements", "joined"),
    [
        (("/a", "/b"), "/a/b"),
        (("/a", "b"), "/a/b"),
        (("/a/", "/b/"), "/a/b"),
        (("/pkg", "/../../etc"), "/etc"),
        (("/pkg", "../.."), "/"),
        (("/pkg", "./x/./y"), "/pkg/x/y"),
        (("/pkg", "x/../y"), "/pkg/y"),
        (("", "/y"), "/y"),
        (("/a", ""), "/a"),
        (("a", "b"), "a/b"),
        (("a", "../.."), ".."),
        (("", ""), ""),
        ((), ""),
        (("//a", "b"), "/a/b"),
    ],
)
def test_go_join(elements: tuple[str, ...], joined: str) -> None:
    assert go_join(*elements) == joined


def test_go_join_differs_from_os_path_join_for_absolute_elements() -> None:
    assert os.path.join("/a", "/b") == "/b"
    assert go_join("/a", "/b") == "/a/b"


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("", "."),
        (".", "."),
        ("/", "/"),
        ("//", "/"),
        ("/..", "/"),
        ("a/..", "."),
        ("../a", "../a"),
        ("a//b/", "a/b"),
        ("/a/./b/../c", "/a/c"),
    ],
)
def test_go_clean(path: str, cleaned: str) -> None:
    assert go_clean(path) == cleaned


paths = st.lists(st.sampled_from(["a", "b", ".", "..", "", "/"]), max_size=8).map("".join)


@given(paths)
def test_go_clean_is_idempotent_and_never_climbs_above_the_root(path: str) -> None:
    cleaned = go_clean(path)
    assert go_clean(cleaned) == cleaned
    if path.startswith("/"):
        assert cleaned.startswith("/") and ".." not in cleaned.split("/")
    # Same as POSIX normpath except that Go folds a leading "//" into "/".
    expected = posixpath.normpath(path)
    assert cleaned == ("/" + expected.lstrip("/") if expected.startswith("//") else expected)
