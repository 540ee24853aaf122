"""The SQLite event store: append, filtered reads in seq order, and continuity across reopening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pytest_opspec.events.store import EventStore, EventStoreError, Record


def records(first: int, count: int, roots: tuple[str, ...] = ("a", "b")) -> list[Record]:
    return [Record(seq, 1_000 + seq * 10, roots[seq % len(roots)], f'{{"n":{seq}}}'.encode())
            for seq in range(first, first + count)]


def test_reads_are_filtered_ordered_and_bounded(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.db")
    assert (store.last_seq, store.last_timestamp_ns) == (0, 0)
    store.append(records(1, 100))
    assert [r.seq for r in store.read(0, 100, limit=1000)] == list(range(1, 101))
    assert [r.seq for r in store.read(10, 20, limit=1000)] == list(range(11, 21))
    assert [r.seq for r in store.read(0, 100, limit=5)] == [1, 2, 3, 4, 5]
    assert {r.root_op_id for r in store.read(0, 100, roots={"a"}, limit=1000)} == {"a"}
    assert [r.seq for r in store.read(0, 100, roots={"a", "b"}, limit=3)] == [1, 2, 3]
    assert [r.seq for r in store.read(0, 100, since_ns=1_500, limit=1000)] == list(range(50, 101))
    assert store.read(0, 100, roots={"nobody"}) == []
    assert store.read(0, 100, limit=1)[0] == records(1, 1)[0]
    store.close()


def test_seq_before_finds_where_a_since_starts(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.db")
    store.append(records(1, 10))  # timestamps 1010 .. 1100
    assert store.seq_before(0) == 0
    assert store.seq_before(1010) == 0
    assert store.seq_before(1011) == 1
    assert store.seq_before(1050) == 4
    assert store.seq_before(10**18) == 10
    store.close()


def test_reopening_continues_after_the_stored_maximum(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.db")
    store.append(records(1, 7))
    store.close()
    again = EventStore(tmp_path / "events.db")
    assert (again.last_seq, again.last_timestamp_ns) == (7, 1_070)
    assert len(again.read(0, 7, limit=100)) == 7
    again.close()


def test_a_duplicate_seq_is_refused_and_nothing_of_the_batch_is_stored(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.db")
    store.append(records(1, 3))
    with pytest.raises(sqlite3.IntegrityError):
        store.append(records(4, 2) + records(3, 1))
    assert [r.seq for r in store.read(0, 100)] == [1, 2, 3]
    store.close()


def test_an_unreadable_or_foreign_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(EventStoreError, match="cannot open the event store"):
        EventStore(tmp_path / "junk.db")
    newer = sqlite3.connect(tmp_path / "newer.db")
    newer.execute("PRAGMA user_version=99")
    newer.close()
    with pytest.raises(EventStoreError, match="format 99"):
        EventStore(tmp_path / "newer.db")
