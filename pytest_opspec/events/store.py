"""A durable event store: SQLite (the standard library's), keyed by the bus's sequence number.

Each row keeps the event's API JSON exactly as it is sent to subscribers, so a replay sends the same
bytes as the live stream did. Rows are only appended, by one writer (the broker's writer thread);
readers run on any thread with connections of their own (WAL mode lets them read while it writes).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Sequence

from ..errors import OpspecError

SCHEMA_VERSION = 1


class EventStoreError(OpspecError):
    """The event database cannot be opened or used."""


@dataclass(frozen=True, slots=True)
class Record:
    """One published event as stored and streamed: its API JSON (UTF-8) plus what filters need."""

    seq: int
    timestamp_ns: int
    root_op_id: str
    payload: bytes


class EventStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = self._connection()
            connection.execute("PRAGMA journal_mode=WAL")
            with connection:
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS events ("
                    " seq INTEGER PRIMARY KEY, timestamp_ns INTEGER NOT NULL,"
                    " root_op_id TEXT NOT NULL, payload BLOB NOT NULL)"
                )
                connection.execute("CREATE INDEX IF NOT EXISTS events_by_time ON events (timestamp_ns)")
                connection.execute("CREATE INDEX IF NOT EXISTS events_by_root ON events (root_op_id, seq)")
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:
                    connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                elif version != SCHEMA_VERSION:
                    raise EventStoreError(
                        f"{self.path} holds events in format {version}; this version reads format "
                        f"{SCHEMA_VERSION} (move the file away to start a fresh history)"
                    )
            row = connection.execute("SELECT max(seq), max(timestamp_ns) FROM events").fetchone()
        except sqlite3.Error as error:
            self.close()
            raise EventStoreError(f"cannot open the event store {self.path}: {error}") from None
        except BaseException:
            self.close()
            raise
        # The bus continues after these, so seq and timestamps keep increasing across restarts.
        self.last_seq: int = row[0] or 0
        self.last_timestamp_ns: int = row[1] or 0

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

    def append(self, records: Sequence[Record]) -> None:
        """Store records in one transaction (called by one writer thread, in seq order)."""
        connection = self._connection()
        connection.execute("BEGIN")
        try:
            connection.executemany(
                "INSERT INTO events (seq, timestamp_ns, root_op_id, payload) VALUES (?, ?, ?, ?)",
                [(r.seq, r.timestamp_ns, r.root_op_id, r.payload) for r in records],
            )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def seq_before(self, timestamp_ns: int) -> int:
        """The last stored seq whose timestamp is before ``timestamp_ns`` (0 when there is none).

        Timestamps increase with seq, so every event at or after the instant has a greater seq.
        """
        row = self._connection().execute(
            "SELECT max(seq) FROM events WHERE timestamp_ns < ?", (timestamp_ns,)
        ).fetchone()
        return row[0] or 0

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
        where = ["seq > ?", "seq <= ?"]
        params: list[object] = [after_seq, upto_seq]
        if since_ns is not None:
            where.append("timestamp_ns >= ?")
            params.append(since_ns)
        if roots:
            where.append(f"root_op_id IN ({', '.join('?' * len(roots))})")
            params.extend(roots)
        params.append(limit)
        rows = self._connection().execute(
            f"SELECT seq, timestamp_ns, root_op_id, payload FROM events WHERE {' AND '.join(where)}"
            " ORDER BY seq LIMIT ?",
            params,
        ).fetchall()
        return [Record(seq, ts, root, bytes(payload)) for seq, ts, root, payload in rows]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
