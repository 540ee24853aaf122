"""Fans the bus's events out to the store and to subscriptions (the node's WebSocket sessions).

Every published event gets a sequence number from the bus (strictly increasing, as is its
timestamp). A subscription is a cursor over that sequence: it reads the events after its cursor
from the recent-events window in memory when they are still there, else from the store, and moves
its cursor past what it read. Replay and live delivery are the same loop, so there is no switch from
one to the other where an event could be lost or sent twice (SEMANTICS §10.16).

Threads: ``publish`` runs on executor threads (synchronously, under the bus lock, in seq order); a
writer thread commits events to the store in batches; subscriptions run on one asyncio loop and are
woken with ``call_soon_threadsafe`` (at most once per burst, not once per event).

Memory is bounded whatever the subscribers do: the window keeps at least the events not yet stored
(publishers wait when too many are) plus a few MiB of recent ones; a subscription behind the window
reads from SQLite. A subscription whose cursor falls more than ``max_lag`` events behind the events
published after it subscribed is a slow consumer: it is told so (``SlowConsumerError``) rather than
silently left behind.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import logging
import threading
from typing import Callable, Collection

from .encoding import event_payload, split_output
from .model import Event, EventType
from .store import EventStore, Record

log = logging.getLogger(__name__)

# Events a subscription may fall behind the live stream before it counts as a slow consumer.
DEFAULT_MAX_LAG = 200_000
# Payload bytes of stored events kept in memory for subscriptions that are (nearly) caught up.
WINDOW_BYTES = 8 * 1024 * 1024
# Payload bytes published but not yet stored before publishers wait for the writer.
MAX_UNSTORED_BYTES = 32 * 1024 * 1024
# Records handed to a subscription per read.
BATCH = 500


class SlowConsumerError(Exception):
    """A subscription fell too far behind the live stream."""

    def __init__(self, lag: int, resume_ns: int | None) -> None:
        super().__init__(f"fell {lag} events behind")
        self.lag = lag
        self.resume_ns = resume_ns  # the timestamp to pass as `since` to continue without a gap


class BrokerClosedError(Exception):
    pass


def encode(event: Event) -> Record:
    """The event as a Record: its API JSON as sent on the stream, plus what the store keeps of it."""
    output = split_output(event)
    source, data = output if output is not None else (None, None)
    ends_root = event.type is EventType.OP_ENDED and event.op_id == event.root_op_id
    return Record(event.seq, event.timestamp_ns, event.root_op_id, event_payload(event), source, data, ends_root)


def _after(records: list[Record], seq: int) -> int:
    """The index of the first record with a seq above ``seq``."""
    return bisect.bisect_right(records, seq, key=_seq)


def _seq(record: Record) -> int:
    return record.seq


class EventBroker:
    def __init__(
        self,
        store: EventStore,
        *,
        max_lag: int = DEFAULT_MAX_LAG,
        window_bytes: int = WINDOW_BYTES,
        max_unstored_bytes: int = MAX_UNSTORED_BYTES,
        retain_ops: int | None = None,
        on_pruned: Callable[[list[str]], None] | None = None,
    ) -> None:
        """``retain_ops``: keep the events of the latest that many ended root ops only; ``on_pruned`` is
        called (on the writer thread) with the ids of the root ops whose events were deleted."""
        self.store = store
        self.max_lag = max_lag
        self._window_bytes = window_bytes
        self._max_unstored_bytes = max_unstored_bytes
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a publish or a commit happened
        # Records in seq order: every event published after _evicted, stored or not.
        self._window: list[Record] = []
        self._evicted = store.last_seq  # events up to this seq are only in the store
        self._held_bytes = 0
        self._unstored_bytes = 0
        self.head = store.last_seq  # the last published seq
        self._stored = store.last_seq  # the last seq committed to the store
        self.started_after = store.last_seq  # events after this seq were published by this process
        self.failure: BaseException | None = None  # set when the writer can no longer store
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_scheduled = False
        self._wakeup: asyncio.Event | None = None
        self._subscriptions: set[Subscription] = set()
        self._retain_ops = retain_ops
        self._on_pruned = on_pruned
        # Pruned root ops -> their last seq still in the window; reads skip those records until evicted.
        self._pruned: dict[str, int] = {}
        if retain_ops is not None:
            store.prune(retain_ops)  # what an earlier run of the node kept, under a larger limit
        self._writer = threading.Thread(target=self._write, name="opspec-event-writer", daemon=True)
        self._writer.start()

    # -- publishing (executor threads) ----------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Bus subscriber: keep the event for the store and for subscriptions. Never raises."""
        try:
            record = encode(event)
        except Exception:  # an unencodable event must not break the op that published it
            log.exception("cannot encode event %s of root %s", event.type, event.root_op_id)
            return
        with self._lock:
            while (self._unstored_bytes > self._max_unstored_bytes and self.failure is None
                   and not self._closing):
                self._changed.wait()  # back-pressure: the writer is behind
            if record.seq <= self.head:
                log.error("event seq %d after %d: dropped (sequence numbers must increase)", record.seq, self.head)
                return
            self._window.append(record)
            size = len(record.payload)
            self._held_bytes += size
            self._unstored_bytes += size
            self.head = record.seq
            if self.failure is not None:
                self._trim()
            self._changed.notify_all()
            schedule = self._loop is not None and not self._wake_scheduled
            if schedule:
                self._wake_scheduled = True
        if schedule:
            self._schedule_wake()

    def _schedule_wake(self) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            with self._lock:
                self._wake_scheduled = False

    # -- storing (writer thread) ----------------------------------------------------------------

    def _write(self) -> None:
        while True:
            with self._lock:
                while self.head == self._stored and not self._closing:
                    self._changed.wait()
                if self.head == self._stored:
                    return  # closing, and everything is stored
                first = _after(self._window, self._stored)
                batch = self._window[first:first + 5000]
            try:
                self.store.append(batch)
            except Exception as error:
                log.exception("cannot store events; replays will miss events after seq %d", self._stored)
                with self._lock:
                    self.failure = error
                    self._changed.notify_all()
                return
            if self._retain_ops is not None and any(record.ends_root for record in batch):
                self._prune(self._retain_ops)  # before the batch counts as stored: flush() waits for it too
            with self._lock:
                self._stored = batch[-1].seq
                self._unstored_bytes -= sum(len(r.payload) for r in batch)
                self._trim()
                self._changed.notify_all()

    def _prune(self, keep: int) -> None:
        try:
            pruned = self.store.prune(keep)
        except Exception:  # retention must not stop the writer; the next op's end tries again
            log.exception("cannot prune the event store")
            return
        if not pruned:
            return
        with self._lock:
            gone = set(pruned)
            for record in self._window:
                if record.root_op_id in gone:
                    self._pruned[record.root_op_id] = record.seq
        if self._on_pruned is not None:
            self._on_pruned(pruned)

    def _trim(self) -> None:
        """Drop the oldest stored records beyond the window's budget (lock held)."""
        drop = 0
        held = self._held_bytes
        # Unstored records stay, so subscriptions can read them; unless they can never be stored.
        limit = len(self._window) if self.failure else _after(self._window, self._stored)
        while drop < limit and held > self._window_bytes:
            held -= len(self._window[drop].payload)
            drop += 1
        if drop:
            self._evicted = self._window[drop - 1].seq
            del self._window[:drop]
            self._held_bytes = held
            if self._pruned:
                self._pruned = {root: last for root, last in self._pruned.items() if last > self._evicted}

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything published so far is stored; False on timeout or a store failure."""
        with self._lock:
            target = self.head
            stored = self._changed.wait_for(lambda: self._stored >= target or self.failure is not None, timeout)
            return stored and self.failure is None

    @property
    def writer_alive(self) -> bool:
        return self._writer.is_alive() and self.failure is None

    # -- subscribing (the event loop) -----------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver wake-ups to subscriptions on ``loop`` (call from that loop)."""
        with self._lock:
            self._loop = loop
            self._wakeup = asyncio.Event()
            self._wake_scheduled = False

    def _wake(self) -> None:
        with self._lock:
            self._wake_scheduled = False
        wakeup, self._wakeup = self._wakeup, asyncio.Event()
        if wakeup is not None:
            wakeup.set()
        for subscription in list(self._subscriptions):
            subscription.check_lag()

    async def subscribe(
        self,
        since_ns: int | None = None,
        roots: Collection[str] | None = None,
        on_slow: Callable[[SlowConsumerError], None] | None = None,
    ) -> Subscription:
        """A subscription to the events at or after ``since_ns`` (all stored history can match) or,
        without it, to those this process published; ``roots`` keeps only those root ops' events.

        ``on_slow`` is called on the loop when the subscription becomes a slow consumer (also while
        its owner is blocked sending), so the owner can stop it.
        """
        if self._closing:
            raise BrokerClosedError("the node is shutting down")
        start_head = self.head
        if since_ns is None:
            cursor = self.started_after
        else:
            loop = asyncio.get_running_loop()
            cursor = await loop.run_in_executor(None, self.store.seq_before, since_ns)
        subscription = Subscription(self, cursor, start_head, since_ns, frozenset(roots or ()), on_slow)
        self._subscriptions.add(subscription)
        return subscription

    def _read_window(self, subscription: Subscription) -> tuple[list[Record], int] | None:
        """Matching records after the cursor from memory and the last seq looked at, or None when
        the records after the cursor have left the window (read the store then)."""
        with self._lock:
            if subscription.cursor < self._evicted:
                return None
            start = _after(self._window, subscription.cursor)
            window = self._window[start:start + BATCH * 4]
        if not window:
            return [], subscription.cursor
        matching = [r for r in window if subscription.matches(r)][:BATCH]
        if len(matching) == BATCH:
            return matching, matching[-1].seq
        return matching, window[-1].seq

    def _evicted_upto(self) -> int:
        with self._lock:
            return self._evicted

    @property
    def subscriptions(self) -> int:
        return len(self._subscriptions)

    def close(self, timeout: float = 10.0) -> None:
        """Store what is pending, stop the writer and release the store."""
        with self._lock:
            self._closing = True
            self._changed.notify_all()
        self._schedule_wake()  # waiting subscriptions see the close
        self._writer.join(timeout)
        self.store.close()


class Subscription:
    """A cursor over the event sequence; use ``next_batch`` on the broker's loop."""

    def __init__(
        self,
        broker: EventBroker,
        cursor: int,
        start_head: int,
        since_ns: int | None,
        roots: frozenset[str],
        on_slow: Callable[[SlowConsumerError], None] | None,
    ) -> None:
        self._broker = broker
        self.cursor = cursor  # every event up to this seq has been looked at
        self._start_head = start_head
        self.since_ns = since_ns
        self.roots = roots
        self._on_slow = on_slow
        self.slow: SlowConsumerError | None = None
        self.last_sent_ns: int | None = None
        self.closed = False

    def matches(self, record: Record) -> bool:
        if self.roots and record.root_op_id not in self.roots:
            return False
        if record.root_op_id in self._broker._pruned:
            return False
        return self.since_ns is None or record.timestamp_ns >= self.since_ns

    @property
    def lag(self) -> int:
        """Events published since this subscription started that it has not looked at yet."""
        return self._broker.head - max(self.cursor, self._start_head)

    def check_lag(self) -> None:
        if self.slow is None and not self.closed and self.lag > self._broker.max_lag:
            resume = self.last_sent_ns + 1 if self.last_sent_ns is not None else self.since_ns
            self.slow = SlowConsumerError(self.lag, resume)
            if self._on_slow is not None:
                self._on_slow(self.slow)

    def sent(self, record: Record) -> None:
        """Note that ``record`` reached the client (for the resume point of a slow consumer)."""
        self.last_sent_ns = record.timestamp_ns

    async def next_batch(self) -> list[Record]:
        """The next matching records in seq order; waits for new events when caught up.

        Raises SlowConsumerError once the subscription fell behind, BrokerClosedError after close.
        """
        broker = self._broker
        while True:
            if self.closed:
                raise BrokerClosedError("subscription closed")
            self.check_lag()
            if self.slow is not None:
                raise self.slow
            wakeup = broker._wakeup
            found = broker._read_window(self)
            if found is None:
                upto = broker._evicted_upto()  # evicted events are stored
                loop = asyncio.get_running_loop()
                read = functools.partial(broker.store.read, self.cursor, upto, since_ns=self.since_ns,
                                         roots=self.roots, limit=BATCH)
                records = await loop.run_in_executor(None, read)
                found = (records, records[-1].seq if len(records) == BATCH else upto)
            records, examined = found
            self.cursor = max(self.cursor, examined)
            if records:
                return records
            if self.cursor < broker.head:
                await asyncio.sleep(0)  # skipping non-matching events; let other sessions run
            else:
                if broker._closing:
                    raise BrokerClosedError("the node is shutting down")
                if wakeup is None:
                    raise RuntimeError("EventBroker.attach() was not called on this loop")
                await wakeup.wait()

    def close(self) -> None:
        self.closed = True
        self._broker._subscriptions.discard(self)
