"""EventBus: one total order, consistent with timestamps, for every subscriber."""

from __future__ import annotations

import threading

from pytest_opspec.events import Event, EventType
from pytest_opspec.events.bus import EventBus


def _event(root: str = "r") -> Event:
    return Event(EventType.PARALLEL_CALL_ENDED, root, call_id="c", timestamp_ns=0)


def test_concurrent_publishers_give_every_subscriber_the_same_gapless_order() -> None:
    bus = EventBus()
    seen: list[list[int]] = [[], []]
    for index in range(2):
        bus.subscribe(lambda event, i=index: seen[i].append(event.seq))

    def publish_many() -> None:
        for _ in range(500):
            bus.publish(_event())

    threads = [threading.Thread(target=publish_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen[0] == seen[1] == list(range(1, 4001))


def test_timestamps_strictly_increase_and_continue_after_a_given_minimum() -> None:
    future = 10**19
    bus = EventBus(first_seq=41, min_timestamp_ns=future)
    first, second = bus.publish(_event()), bus.publish(_event())
    assert (first.seq, second.seq) == (41, 42)
    assert future < first.timestamp_ns < second.timestamp_ns


def test_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    seen: list[int] = []
    unsubscribe = bus.subscribe(lambda event: seen.append(event.seq))
    bus.publish(_event())
    unsubscribe()
    bus.publish(_event())
    assert seen == [1]
