"""Range header parsing (RFC 7233) against a representation's size."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_opspec.node.ranges import MAX_RANGES, RangeNotSatisfiable, parse_range


@pytest.mark.parametrize(("header", "size", "ranges"), [
    ("bytes=0-0", 10, [(0, 0)]),
    ("bytes=0-9", 10, [(0, 9)]),
    ("bytes=0-99", 10, [(0, 9)]),
    ("bytes=5-", 10, [(5, 9)]),
    ("bytes=-3", 10, [(7, 9)]),
    ("bytes=-30", 10, [(0, 9)]),
    ("bytes=0-1,4-5", 10, [(0, 1), (4, 5)]),
    ("bytes=0-1, ,4-5,", 10, [(0, 1), (4, 5)]),  # empty list elements are allowed
    ("Bytes=1-1", 10, [(1, 1)]),
    ("bytes=20-30,1-2", 10, [(1, 2)]),  # unsatisfiable members are dropped
])
def test_satisfiable_ranges(header: str, size: int, ranges: list[tuple[int, int]]) -> None:
    assert parse_range(header, size) == ranges


@pytest.mark.parametrize("header", [None, "", "bytes", "bytes=", "bytes=x-y", "bytes=3-1", "bytes=-", "bytes=1-2-3",
                                    "items=0-1", "bytes 0-1", "bytes=0x1-2", "bytes=+1-2"])
def test_malformed_headers_are_ignored(header: str | None) -> None:
    assert parse_range(header, 10) is None


def test_too_many_or_overlapping_ranges_are_ignored() -> None:
    assert parse_range("bytes=" + ",".join(["0-0"] * (MAX_RANGES + 1)), 10) is None
    assert parse_range("bytes=0-9,0-9", 10) is None  # more bytes than the content: send it whole


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=10-20", 10), ("bytes=-0", 10),
                                              ("bytes=0-", 0), ("bytes=-5", 0)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, size)


@given(size=st.integers(1, 1000), first=st.integers(0, 2000), length=st.integers(1, 2000))
def test_a_satisfiable_single_range_stays_inside_the_content(size: int, first: int, length: int) -> None:
    header = f"bytes={first}-{first + length - 1}"
    if first >= size:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, size)
    else:
        ((start, end),) = parse_range(header, size)
        assert start == first and end == min(first + length - 1, size - 1)
