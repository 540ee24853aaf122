"""A durable, compact event store: SQLite (the standard library's), keyed by the bus's sequence number.

Layout (format 2). Each write batch of the broker becomes one *block* per root op: a row holding that root's
events of the batch in columns (seq and timestamp offsets, a source id, a length) followed by their bytes.
An output event (one line a container wrote) keeps only its raw data: the container's image, ids and
package are stored once, as a row of ``sources``, and its JSON is rebuilt by ``encoding.output_payload``,
the function that built it for the live stream, so a replay sends the same bytes. Any other event keeps its
API JSON as it was sent. Measured: about 1.3 bytes on disk per byte of output for 80-byte lines (format 1,
one row of JSON per event, took 6.6).

Blocks of one batch cover seqs in one range of at most ``MAX_SPAN`` and batches do not overlap, so reading
in seq order is: blocks by first seq, merged batch by batch. Retention deletes whole blocks (``prune``):
the events of root ops that ended before the latest ``keep`` ones.

Rows are only appended by one writer (the broker's writer thread); readers run on any thread with
connections of their own (WAL mode lets them read while it writes).
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import sqlite3
import struct
import threading
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterator, Sequence

from ..errors import OpspecError
from .encoding import OutputSource, output_payload, split_output
from .model import Event, EventType

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
# The most seqs one batch (and so one block) covers; a read starting after seq S looks at blocks from S - MAX_SPAN.
MAX_SPAN = 8192
_JSON_SOURCE = -1  # the source id of an event stored as its JSON
_HEADER = struct.Struct("<I")
# Bytes of stored blocks whose decoded records are kept for further reads.
DECODED_CACHE_BYTES = 16 * 1024 * 1024

_SCHEMA = (
    "CREATE TABLE roots (id INTEGER PRIMARY KEY, root_op_id TEXT NOT NULL UNIQUE, ended_seq INTEGER)",
    "CREATE INDEX roots_by_end ON roots (ended_seq) WHERE ended_seq IS NOT NULL",
    "CREATE TABLE sources (id INTEGER PRIMARY KEY, root INTEGER NOT NULL, type TEXT NOT NULL,"
    " image_ref TEXT NOT NULL, container_id TEXT NOT NULL, pkg_ref TEXT NOT NULL)",
    "CREATE INDEX sources_by_root ON sources (root)",
    "CREATE TABLE blocks (first_seq INTEGER PRIMARY KEY, batch INTEGER NOT NULL, root INTEGER NOT NULL,"
    " last_seq INTEGER NOT NULL, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, body BLOB NOT NULL)",
    "CREATE INDEX blocks_by_root ON blocks (root, first_seq)",
    "CREATE INDEX blocks_by_time ON blocks (first_ts)",
    # The highest seq and timestamp ever stored (pruning may delete the rows that held them).
    "CREATE TABLE head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, ts INTEGER NOT NULL)",
    "INSERT INTO head VALUES (1, 0, 0)",
)


class EventStoreError(OpspecError):
    """The event database cannot be opened or used."""


@dataclass(frozen=True, slots=True)
class Record:
    """One published event as streamed: its API JSON (UTF-8) plus what filters and the store need.

    ``source`` and ``data`` are set for output events (the payload is ``output_payload(source, data,
    timestamp_ns)``); ``ends_root`` marks the root op's own ``opEnded``.
    """

    seq: int
    timestamp_ns: int
    root_op_id: str
    payload: bytes
    source: OutputSource | None = None
    data: bytes | None = None
    ends_root: bool = False


class EventStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        # Writer-side caches of row ids (only the writer thread inserts).
        self._root_ids: dict[str, int] = {}
        self._source_ids: dict[OutputSource, int] = {}
        # first seq -> (records, stored size)
        self._decoded_blocks: OrderedDict[int, tuple[list[Record], int]] = OrderedDict()
        self._decoded_bytes = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = self._connection()
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                connection.execute("PRAGMA auto_vacuum=INCREMENTAL")  # before the first table
            connection.execute("PRAGMA journal_mode=WAL")
            if version == 0:
                with _transaction(connection):
                    for statement in _SCHEMA:
                        connection.execute(statement)
                    connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif version == 1:
                _convert_format_1(connection, self.path)
            elif version != SCHEMA_VERSION:
                raise EventStoreError(
                    f"{self.path} holds events in format {version}; this version reads formats 1 and "
                    f"{SCHEMA_VERSION} (move the file away to start a fresh history)"
                )
            seq, ts = connection.execute("SELECT seq, ts FROM head").fetchone()
        except sqlite3.Error as error:
            self.close()
            raise EventStoreError(f"cannot open the event store {self.path}: {error}") from None
        except BaseException:
            self.close()
            raise
        # The bus continues after these, so seq and timestamps keep increasing across restarts.
        self.last_seq: int = seq
        self.last_timestamp_ns: int = ts

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            with self._lock:
                if self._closed:
                    raise EventStoreError("the event store is closed")
                connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                # Durable against a crash of the node; an OS crash may lose the last commits (WAL + NORMAL).
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("PRAGMA busy_timeout=5000")
                self._connections.append(connection)
            self._local.connection = connection
        return connection

    # -- writing (one writer thread) ------------------------------------------------------------

    def append(self, records: Sequence[Record]) -> None:
        """Store records in one transaction (called by one writer thread, in increasing seq order).

        Raises EventStoreError, storing nothing, when a seq does not follow the ones stored before it.
        """
        if not records:
            return
        previous = self.last_seq
        for record in records:
            if record.seq <= previous:
                raise EventStoreError(f"event seq {record.seq} does not follow {previous}")
            previous = record.seq
        connection = self._connection()
        root_ids, source_ids = dict(self._root_ids), dict(self._source_ids)
        with _transaction(connection):
            _write(connection, records, root_ids, source_ids)
        # Row ids cached only once committed: a failed batch inserted none.
        self._root_ids, self._source_ids = root_ids, source_ids
        self.last_seq, self.last_timestamp_ns = records[-1].seq, records[-1].timestamp_ns

    def prune(self, keep: int) -> list[str]:
        """Delete the events of every ended root op but the ``keep`` that ended last; return their ids."""
        connection = self._connection()
        expired = connection.execute(
            "SELECT id, root_op_id FROM roots WHERE ended_seq IS NOT NULL ORDER BY ended_seq DESC LIMIT -1 OFFSET ?",
            (keep,),
        ).fetchall()
        if not expired:
            return []
        with _transaction(connection):
            ids = [(root,) for root, _ in expired]
            connection.executemany("DELETE FROM blocks WHERE root = ?", ids)
            connection.executemany("DELETE FROM sources WHERE root = ?", ids)
            connection.executemany("DELETE FROM roots WHERE id = ?", ids)
        connection.execute("PRAGMA incremental_vacuum")
        names = [name for _, name in expired]
        with self._lock:
            self._decoded_blocks.clear()
            self._decoded_bytes = 0
        for name in names:
            self._root_ids.pop(name, None)
        self._source_ids = {s: i for s, i in self._source_ids.items() if s.root_op_id not in names}
        return names

    # -- reading (any thread) -------------------------------------------------------------------

    def seq_before(self, timestamp_ns: int) -> int:
        """The last stored seq whose timestamp is before ``timestamp_ns`` (0 when there is none).

        Timestamps increase with seq, so every event at or after the instant has a greater seq.
        """
        connection = self._connection()
        # The block that starts last before the instant belongs to the batch holding the answer.
        row = connection.execute(
            "SELECT batch FROM blocks WHERE first_ts < ? ORDER BY first_ts DESC LIMIT 1", (timestamp_ns,)
        ).fetchone()
        if row is None:
            return 0
        blocks = connection.execute(
            "SELECT first_seq, first_ts, body, root FROM blocks"
            " WHERE first_seq >= ? AND first_seq < ? AND first_ts < ?",
            (row[0], row[0] + MAX_SPAN, timestamp_ns),
        )
        names: dict[int, str] = {}
        return max(record.seq for first, ts, body, root in blocks
                   for record in self._block_records(first, ts, body, root, names)
                   if record.timestamp_ns < timestamp_ns)

    def read(
        self,
        after_seq: int,
        upto_seq: int,
        *,
        since_ns: int | None = None,
        roots: Collection[str] | None = None,
        limit: int = 500,
    ) -> list[Record]:
        """Stored records with ``after_seq < seq <= upto_seq`` matching the filters, in seq order."""
        connection = self._connection()
        where = ["first_seq > ?", "first_seq <= ?", "last_seq > ?"]
        params: list[object] = [after_seq - MAX_SPAN, upto_seq, after_seq]
        if since_ns is not None:
            where.append("last_ts >= ?")
            params.append(since_ns)
        if roots:
            where.append(f"root IN (SELECT id FROM roots WHERE root_op_id IN ({', '.join('?' * len(roots))}))")
            params.extend(roots)
        rows = connection.execute(
            f"SELECT first_seq, batch, first_ts, body, root FROM blocks WHERE {' AND '.join(where)} ORDER BY first_seq",
            params,
        )
        found: list[Record] = []
        names: dict[int, str] = {}
        for _, blocks in itertools.groupby(rows, key=lambda row: row[1]):
            decoded = [self._block_records(first, ts, body, root, names) for first, _, ts, body, root in blocks]
            for record in heapq.merge(*decoded, key=_seq):
                if after_seq < record.seq <= upto_seq and (since_ns is None or record.timestamp_ns >= since_ns):
                    found.append(record)
            if len(found) >= limit:
                break
        return found[:limit]

    def _block_records(self, first_seq: int, first_ts: int, body: bytes, root: int,
                       names: dict[int, str]) -> list[Record]:
        """A block's records, decoded once: subscriptions that fell behind the broker's window read the
        same blocks one after the other."""
        with self._lock:
            cached = self._decoded_blocks.get(first_seq)
            if cached is not None:
                self._decoded_blocks.move_to_end(first_seq)
                return cached[0]
        if root not in names:
            names[root] = self._connection().execute("SELECT root_op_id FROM roots WHERE id = ?", (root,)).fetchone()[0]
        records = list(self._decoded(first_seq, first_ts, body, names[root]))
        with self._lock:
            self._decoded_blocks[first_seq] = (records, len(body))
            self._decoded_bytes += len(body)
            while self._decoded_bytes > DECODED_CACHE_BYTES and len(self._decoded_blocks) > 1:
                _, (_, size) = self._decoded_blocks.popitem(last=False)
                self._decoded_bytes -= size
        return records

    def _decoded(self, first_seq: int, first_ts: int, body: bytes, root_op_id: str) -> Iterator[Record]:
        connection = self._connection()
        sources: dict[int, OutputSource] = {}
        count, = _HEADER.unpack_from(body)
        seqs, stamps, source_ids, lengths = _columns(body, count)
        offset = _HEADER.size + count * _ROW_BYTES
        for index in range(count):
            seq, ts = first_seq + seqs[index], first_ts + stamps[index]
            end = offset + lengths[index]
            data = body[offset:end]
            offset = end
            source_id = source_ids[index]
            if source_id == _JSON_SOURCE:
                yield Record(seq, ts, root_op_id, data)
                continue
            source = sources.get(source_id)
            if source is None:
                source = sources[source_id] = _source(connection, source_id)
            yield Record(seq, ts, source.root_op_id, output_payload(source, data, ts), source, data)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()


# -- block encoding --------------------------------------------------------------------------------

# Per event: seq offset (u16, < MAX_SPAN), timestamp offset (u64 ns), source id (i32), length (u32).
_ROW_BYTES = 2 + 8 + 4 + 4


def _write(connection: sqlite3.Connection, records: Sequence[Record], root_ids: dict[str, int],
           source_ids: dict[OutputSource, int]) -> None:
    """Insert the records' blocks and move the head (inside the caller's transaction)."""
    for batch in _batches(records):
        rows = []
        for root_op_id, events in _by_root(batch):
            root = _root_id(connection, root_ids, root_op_id)
            rows.append(_block(batch[0].seq, root, events, connection, source_ids))
            ended = [r.seq for r in events if r.ends_root]
            if ended:
                connection.execute("UPDATE roots SET ended_seq = ? WHERE id = ?", (ended[-1], root))
        connection.executemany("INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    connection.execute("UPDATE head SET seq = ?, ts = ?", (records[-1].seq, records[-1].timestamp_ns))


def _block(batch: int, root: int, events: list[Record], connection: sqlite3.Connection,
           source_ids: dict[OutputSource, int]) -> tuple[int, int, int, int, int, int, bytes]:
    first, last = events[0], events[-1]
    seqs = array("H", [r.seq - first.seq for r in events])
    stamps = array("Q", [r.timestamp_ns - first.timestamp_ns for r in events])
    sources = array("i")
    datas: list[bytes] = []
    for record in events:
        if record.source is None or record.data is None:
            sources.append(_JSON_SOURCE)
            datas.append(record.payload)
        else:
            source_id = source_ids.get(record.source)
            if source_id is None:
                source_id = source_ids[record.source] = connection.execute(
                    "INSERT INTO sources (root, type, image_ref, container_id, pkg_ref) VALUES (?, ?, ?, ?, ?)",
                    (root, record.source.type, record.source.image_ref, record.source.container_id,
                     record.source.pkg_ref),
                ).lastrowid or 0
            sources.append(source_id)
            datas.append(record.data)
    lengths = array("I", map(len, datas))
    body = b"".join((_HEADER.pack(len(events)), seqs.tobytes(), stamps.tobytes(), sources.tobytes(),
                     lengths.tobytes(), *datas))
    return first.seq, batch, root, last.seq, first.timestamp_ns, last.timestamp_ns, body


def _columns(body: bytes, count: int) -> tuple[array[int], array[int], array[int], array[int]]:
    columns = []
    offset = _HEADER.size
    for code, width in (("H", 2), ("Q", 8), ("i", 4), ("I", 4)):
        column = array(code)
        column.frombytes(body[offset:offset + count * width])
        columns.append(column)
        offset += count * width
    return columns[0], columns[1], columns[2], columns[3]


def _batches(records: Sequence[Record]) -> Iterator[Sequence[Record]]:
    """Consecutive runs of records whose seqs span less than MAX_SPAN each."""
    start = 0
    for index, record in enumerate(records):
        if record.seq - records[start].seq >= MAX_SPAN:
            yield records[start:index]
            start = index
    yield records[start:]


def _by_root(batch: Sequence[Record]) -> list[tuple[str, list[Record]]]:
    groups: dict[str, list[Record]] = {}
    for record in batch:
        groups.setdefault(record.root_op_id, []).append(record)
    return list(groups.items())


def _root_id(connection: sqlite3.Connection, cache: dict[str, int], root_op_id: str) -> int:
    root = cache.get(root_op_id)
    if root is None:
        row = connection.execute("SELECT id FROM roots WHERE root_op_id = ?", (root_op_id,)).fetchone()
        if row is None:
            row = (connection.execute("INSERT INTO roots (root_op_id) VALUES (?)", (root_op_id,)).lastrowid,)
        root = cache[root_op_id] = row[0]
    return root


def _source(connection: sqlite3.Connection, source_id: int) -> OutputSource:
    row = connection.execute(
        "SELECT type, image_ref, r.root_op_id, container_id, pkg_ref FROM sources JOIN roots r ON r.id = root"
        " WHERE sources.id = ?", (source_id,)).fetchone()
    if row is None:
        raise EventStoreError(f"the event store lost output source {source_id}")
    return OutputSource(*row)


class _transaction:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def __enter__(self) -> None:
        self._connection.execute("BEGIN")

    def __exit__(self, kind: object, *_: object) -> None:
        self._connection.execute("ROLLBACK" if kind is not None else "COMMIT")


# -- format 1 ---------------------------------------------------------------------------------------

def _convert_format_1(connection: sqlite3.Connection, path: Path) -> None:
    """Rewrite a format-1 store (one row of JSON per event) in format 2, in one transaction."""
    log.warning("converting the event store %s from format 1 to format %d", path, SCHEMA_VERSION)
    with _transaction(connection):
        connection.execute("ALTER TABLE events RENAME TO events_format_1")
        connection.execute("DROP INDEX IF EXISTS events_by_time")
        connection.execute("DROP INDEX IF EXISTS events_by_root")
        for statement in _SCHEMA:
            connection.execute(statement)
        root_ids: dict[str, int] = {}
        source_ids: dict[OutputSource, int] = {}
        cursor = connection.execute("SELECT seq, timestamp_ns, root_op_id, payload FROM events_format_1 ORDER BY seq")
        while chunk := cursor.fetchmany(5000):
            _write(connection, [_format_1_record(*row) for row in chunk], root_ids, source_ids)
        connection.execute("DROP TABLE events_format_1")
        connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    connection.execute("VACUUM")  # give the old rows' space back (also turns on incremental vacuum)


def _format_1_record(seq: int, ts: int, root_op_id: str, payload: bytes) -> Record:
    """A stored format-1 event as a Record: compact when re-encoding it gives the very same bytes."""
    payload = bytes(payload)
    try:
        event = Event.from_json(json.loads(payload))
    except ValueError:
        return Record(seq, ts, root_op_id, payload)
    output = split_output(event)
    ends = event.type is EventType.OP_ENDED and event.op_id == root_op_id
    if output is not None and output_payload(*output, ts) == payload:
        return Record(seq, ts, root_op_id, payload, *output)
    return Record(seq, ts, root_op_id, payload, ends_root=ends)



def _seq(record: Record) -> int:
    return record.seq
