"""The SQLite event store: append, filtered reads in seq order, continuity across reopening, the compact
layout (replayed bytes equal the live ones), retention and the conversion of format-1 stores."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from pytest_opspec.events import Event, EventType, Outcome
from pytest_opspec.events.broker import encode
from pytest_opspec.events.store import MAX_SPAN, EventStore, EventStoreError, Record
from pytest_opspec.values import Value


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
    with pytest.raises(EventStoreError, match="seq 3 does not follow 5"):
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


def run_events(root: str, first_seq: int, lines: list[bytes], *, container: str = "c1") -> list[Record]:
    """A root op's events as the broker encodes them: started, output lines (stdout and stderr), ended."""
    events = [Event(type=EventType.OP_STARTED, root_op_id=root, op_id=root, pkg_ref="/pkgs/echo")]
    for n, data in enumerate(lines):
        kind = EventType.CONTAINER_STDERR_WRITTEN_TO if n % 3 == 2 else EventType.CONTAINER_STDOUT_WRITTEN_TO
        events.append(Event(type=kind, root_op_id=root, container_id=container, image_ref="alpine:3.19",
                            pkg_ref="/pkgs/echo", data=data))
    events.append(Event(type=EventType.OP_ENDED, root_op_id=root, op_id=root, pkg_ref="/pkgs/echo",
                        outcome=Outcome.SUCCEEDED, outputs={"greeting": Value.string("hi \"there\"")}))
    return [encode(dataclasses.replace(event, seq=seq, timestamp_ns=10**18 + seq * 1_000))
            for seq, event in enumerate(events, start=first_seq)]


def test_replayed_events_are_the_bytes_sent_live(tmp_path: Path) -> None:
    lines = [b"plain\n", "ünïcode \u2603\n".encode(), b"\x00\xffbinary", b"", b'quote " and \\ backslash\n']
    live = run_events("root-a", 1, lines) + run_events("root-b", 8, lines[:2], container="c2")
    store = EventStore(tmp_path / "events.db")
    store.append(live[:4])
    store.append(live[4:])
    replayed = store.read(0, 100, limit=1000)
    assert [r.payload for r in replayed] == [r.payload for r in live]
    assert [(r.seq, r.timestamp_ns, r.root_op_id) for r in replayed] == [(r.seq, r.timestamp_ns, r.root_op_id)
                                                                          for r in live]
    store.close()
    reopened = EventStore(tmp_path / "events.db")
    assert [r.payload for r in reopened.read(3, 9, roots={"root-b"}, limit=1000)] == [r.payload for r in live[7:9]]
    reopened.close()


def test_output_lines_are_stored_compactly(tmp_path: Path) -> None:
    lines = [f"{n:08d} {'x' * 70}\n".encode() for n in range(20_000)]  # 80-byte lines
    live = run_events("root", 1, lines)
    store = EventStore(tmp_path / "events.db")
    for start in range(0, len(live), 5000):  # the broker's writer batches
        store.append(live[start:start + 5000])
    store.close()
    stored = sum(path.stat().st_size for path in tmp_path.glob("events.db*"))
    assert stored / sum(map(len, lines)) < 1.5  # format 1 stored 6.6 bytes per byte


def test_reads_span_batches_and_interleaved_roots_in_seq_order(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.db")
    many = records(1, 3 * MAX_SPAN, roots=("a", "b", "c"))
    store.append(many[:10])
    store.append(many[10:])  # more than one block span in one append
    assert [r.seq for r in store.read(5, 3 * MAX_SPAN, limit=100_000)] == list(range(6, 3 * MAX_SPAN + 1))
    window = store.read(MAX_SPAN + 3, 2 * MAX_SPAN, roots={"b"}, limit=7)
    assert [r.seq for r in window] == [s for s in range(MAX_SPAN + 4, 2 * MAX_SPAN + 1) if s % 3 == 1][:7]
    assert store.seq_before(1_000 + 2 * MAX_SPAN * 10 + 5) == 2 * MAX_SPAN
    store.close()


def test_prune_deletes_all_but_the_latest_ended_roots(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.db")
    seq = 1
    for root in ("first", "second", "third", "fourth"):
        events = run_events(root, seq, [b"line\n"] * 3)
        store.append(events)
        seq += len(events)
    running = run_events("running", seq, [b"still going\n"])[:-1]  # no opEnded yet
    store.append(running)
    assert store.prune(keep=3) == ["first"]
    assert store.read(0, seq + 10, roots={"first"}) == []
    assert {r.root_op_id for r in store.read(0, seq + 10, limit=1000)} == {"second", "third", "fourth", "running"}
    assert store.prune(keep=3) == []
    assert store.prune(keep=1) == ["third", "second"]
    assert {r.root_op_id for r in store.read(0, seq + 10, limit=1000)} == {"fourth", "running"}
    last = store.last_seq
    store.close()
    assert EventStore(tmp_path / "events.db").last_seq == last


def test_a_format_1_store_is_converted_with_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE events (seq INTEGER PRIMARY KEY, timestamp_ns INTEGER NOT NULL,
                             root_op_id TEXT NOT NULL, payload BLOB NOT NULL);
        CREATE INDEX events_by_time ON events (timestamp_ns);
        CREATE INDEX events_by_root ON events (root_op_id, seq);
        PRAGMA user_version=1;
    """)
    live = run_events("old-a", 1, [b"one\n", b"two\n"]) + run_events("old-b", 5, [b"three\n"])
    old.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                    [(r.seq, r.timestamp_ns, r.root_op_id, r.payload) for r in live])
    old.execute("INSERT INTO events VALUES (9, ?, 'odd', ?)", (10**18 + 9_000, b'{"not an event": 1}'))
    old.commit()
    old.close()
    store = EventStore(path)
    assert store.last_seq == 9
    assert [r.payload for r in store.read(0, 9, limit=100)] == [r.payload for r in live] + [b'{"not an event": 1}']
    assert store.prune(keep=1) == ["old-a"]  # which roots ended was recovered
    store.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2
