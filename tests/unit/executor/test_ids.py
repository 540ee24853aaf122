"""Ids have the reference's formats: random version-4 UUIDs, 32 hex characters or 36 with dashes."""

from __future__ import annotations

import re
import uuid

from pytest_opspec.executor.ids import new_call_id, new_root_op_id, new_run_id


def test_hex_ids_are_random_version_4_uuids() -> None:
    for make in (new_root_op_id, new_call_id):
        ids = {make() for _ in range(200)}
        assert len(ids) == 200
        for text in ids:
            assert re.fullmatch(r"[0-9a-f]{32}", text)
            parsed = uuid.UUID(hex=text)
            assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_run_ids_are_version_4_uuids_with_dashes() -> None:
    ids = {new_run_id() for _ in range(200)}
    assert len(ids) == 200
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
