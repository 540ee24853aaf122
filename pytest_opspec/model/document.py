"""A YAML file we read (op.yml, scenarios, args files): its text, read safely, and what parsing it gives.

Kept apart from ``yaml12`` (the parser) so that reading a file and holding a parsed document import no
YAML library: a document found valid before comes back from ``op_cache`` without parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .problems import InvalidOpError, Problem
from .types import Position

MAX_BYTES = 1_000_000
_NOT_TEXT = re.compile(r"[\x00-\x08\x0e-\x1f]")


@dataclass(slots=True)
class YamlDocument:
    """A parsed YAML file: JSON-like ``data`` and where each node and each mapping key sits in the text."""

    data: Any
    # JSON pointer -> 1-based position of the node, and of the key that introduces it.
    positions: dict[str, Position] = field(default_factory=dict)
    key_positions: dict[str, Position] = field(default_factory=dict)


def read_op_text(file: Path) -> str:
    """The text of an op.yml (or another YAML file we read: scenarios, args files), or InvalidOpError
    for a missing, huge, binary or non-UTF-8 file. Reads at most MAX_BYTES + 1 bytes, so a device
    such as /dev/zero is refused instead of read without end."""
    def fail(message: str) -> InvalidOpError:
        return InvalidOpError(file, [Problem(file, message, check="yaml")])

    try:
        with open(file, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except IsADirectoryError:
        raise fail("is a directory, not a file") from None
    except OSError as error:
        raise fail(f"cannot read: {error.strerror or error}") from None
    if len(raw) > MAX_BYTES:
        raise fail(f"file is larger than the {MAX_BYTES // 1_000_000} MB limit for YAML files")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif raw.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        encoding = "utf-32"
    else:
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise fail(f"not a text file: invalid {encoding.removesuffix('-sig').upper()} "
                   f"at byte {error.start}") from None
    bad = _NOT_TEXT.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise InvalidOpError(file, [Problem(file, f"not a text file: control character "
                                                  f"{bad.group()!r}", position=Position(line, column),
                                            check="yaml")])
    return text
