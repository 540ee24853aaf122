"""In-process publish/subscribe for events, with a total order.

The bus stamps every event under one lock with a strictly increasing sequence number and a strictly
increasing timestamp, so "order of publication", "seq order" and "timestamp order" are the same thing
for every subscriber and for the store (SEMANTICS §10.16: no equal-timestamp overwrites).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Callable

from .model import Event

Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self, first_seq: int = 1, min_timestamp_ns: int = 0) -> None:
        self._lock = threading.Lock()
        self._next_seq = first_seq
        self._last_timestamp_ns = min_timestamp_ns
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` for every later event, in order, on the publishing thread.

        Subscribers must be quick and must not publish. Returns an unsubscribe function.
        """
        with self._lock:
            self._subscribers = [*self._subscribers, subscriber]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not subscriber]

        return unsubscribe

    def publish(self, event: Event) -> Event:
        with self._lock:
            timestamp = max(time.time_ns(), self._last_timestamp_ns + 1)
            self._last_timestamp_ns = timestamp
            stamped = dataclasses.replace(event, seq=self._next_seq, timestamp_ns=timestamp)
            self._next_seq += 1
            # Delivering under the lock keeps every subscriber's view in seq order.
            for subscriber in self._subscribers:
                subscriber(stamped)
        return stamped
