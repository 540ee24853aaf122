"""Id formats, as the reference produces them (SEMANTICS §8)."""

from __future__ import annotations

import uuid


def new_root_op_id() -> str:
    """A root op id: UUIDv4 as 32 lowercase hex characters."""
    return uuid.uuid4().hex


def new_call_id() -> str:
    """A serial/parallel child's id (also a container's or nested op's id): 32 hex characters."""
    return uuid.uuid4().hex


def new_run_id() -> str:
    """The id of an op's `run` node: UUIDv4 with dashes (36 characters)."""
    return str(uuid.uuid4())
