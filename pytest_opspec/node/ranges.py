"""HTTP byte ranges (RFC 7233): parsing a Range header against a representation's size."""

from __future__ import annotations

import re

# Above this many ranges (or more bytes than the file has, summed) the header is ignored and the
# whole file is sent, so overlapping ranges cannot amplify a response (as Go's file server does).
MAX_RANGES = 100

_SPEC = re.compile(r"(\d*)-(\d*)")


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """The inclusive ``(first, last)`` byte ranges to send, or None to send the whole representation.

    A missing, malformed or non-``bytes`` header is ignored (RFC 7233 §3.1). Raises
    RangeNotSatisfiable when the header is valid but no range overlaps the content.
    """
    if header is None:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    ranges: list[tuple[int, int]] = []
    satisfiable: list[tuple[int, int]] = []
    for item in specs.split(","):
        item = item.strip()
        if not item:
            continue  # empty list elements are allowed (RFC 7230 §7)
        match = _SPEC.fullmatch(item)
        if match is None or match[0] == "-":
            return None
        first_text, last_text = match[1], match[2]
        if first_text:
            first = int(first_text)
            last = int(last_text) if last_text else size - 1
            if last_text and last < first:
                return None  # syntactically invalid
            ranges.append((first, last))
            if first < size:
                satisfiable.append((first, min(last, size - 1)))
        else:
            suffix = int(last_text)
            ranges.append((-1, suffix))
            if suffix > 0 and size > 0:
                satisfiable.append((max(size - suffix, 0), size - 1))
    if not ranges or len(ranges) > MAX_RANGES:
        return None
    if not satisfiable:
        raise RangeNotSatisfiable(f"none of the ranges in {header!r} overlaps the {size} bytes of content")
    if sum(last - first + 1 for first, last in satisfiable) > size:
        return None
    return satisfiable
