"""Id formats, as the reference produces them (SEMANTICS §8).

Built from os.urandom as uuid.uuid4 does, without importing uuid: it imports platform, a few ms of every
`opspec run` on a slow CPU.
"""

from __future__ import annotations

import os


def _uuid4_hex() -> str:
    """A random UUID (version 4, RFC 4122 variant) as 32 lowercase hex characters."""
    value = int.from_bytes(os.urandom(16), "big")
    value = (value & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
    return f"{value:032x}"


def new_root_op_id() -> str:
    """A root op id: UUIDv4 as 32 lowercase hex characters."""
    return _uuid4_hex()


def new_call_id() -> str:
    """A serial/parallel child's id (also a container's or nested op's id): 32 hex characters."""
    return _uuid4_hex()


def new_run_id() -> str:
    """The id of an op's `run` node: UUIDv4 with dashes (36 characters)."""
    text = _uuid4_hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
