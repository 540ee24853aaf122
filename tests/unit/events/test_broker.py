"""The broker: subscriptions see every matching event once, in order, from memory or the store alike."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Iterator

import pytest

from pytest_opspec.events import Event, EventType
from pytest_opspec.events.broker import EventBroker, SlowConsumerError, Subscription, encode
from pytest_opspec.events.bus import EventBus
from pytest_opspec.events.store import EventStore
from pytest_opspec.values import Value


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EventBroker]:
    broker = EventBroker(EventStore(tmp_path / "events.db"), window_bytes=2_000, max_unstored_bytes=20_000)
    yield broker
    broker.close()


def bus_for(broker: EventBroker) -> EventBus:
    bus = EventBus(first_seq=broker.store.last_seq + 1, min_timestamp_ns=broker.store.last_timestamp_ns)
    bus.subscribe(broker.publish)
    return bus


def line(root: str, n: int) -> Event:
    return Event(type=EventType.CONTAINER_STDOUT_WRITTEN_TO, root_op_id=root, container_id="c", image_ref="i",
                 pkg_ref="/p", data=f"line {n}\n".encode())


def publish_from_threads(bus: EventBus, roots: list[str], per_root: int) -> None:
    threads = [threading.Thread(target=lambda r=root: [bus.publish(line(r, n)) for n in range(per_root)])
               for root in roots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


async def drain(subscription: Subscription, count: int) -> list[bytes]:
    received: list[bytes] = []
    while len(received) < count:
        received += [r.payload for r in await asyncio.wait_for(subscription.next_batch(), 10)]
    return received


def test_live_and_replayed_subscribers_get_the_same_exact_sequence(broker: EventBroker) -> None:
    bus = bus_for(broker)

    async def scenario() -> None:
        broker.attach(asyncio.get_running_loop())
        early = await broker.subscribe()
        early_a = await broker.subscribe(roots={"a"})
        publisher = asyncio.get_running_loop().run_in_executor(None, publish_from_threads, bus, ["a", "b", "c"], 300)
        await asyncio.sleep(0.01)
        late = await broker.subscribe(since_ns=0)  # joins mid-flight: replay turns into live
        received = await asyncio.gather(drain(early, 900), drain(late, 900), drain(early_a, 300))
        await publisher
        assert broker.flush(10)
        stored = [r.payload for r in broker.store.read(0, broker.head, limit=10_000)]
        assert received[0] == received[1] == stored
        assert received[2] == [p for p in stored if b'"rootOpId":"a"' in p]
        # A subscriber far behind the small window reads from the store, with no gap.
        behind = await broker.subscribe(since_ns=0, roots={"b", "c"})
        assert await drain(behind, 600) == [p for p in stored if b'"rootOpId":"a"' not in p]

    asyncio.run(scenario())


def test_since_is_inclusive_on_timestamps(broker: EventBroker) -> None:
    bus = bus_for(broker)
    published = [bus.publish(line("a", n)) for n in range(10)]

    async def scenario() -> None:
        broker.attach(asyncio.get_running_loop())
        subscription = await broker.subscribe(since_ns=published[4].timestamp_ns)
        assert await drain(subscription, 6) == [encode(e).payload for e in published[4:]]

    asyncio.run(scenario())


def test_a_subscriber_that_falls_behind_is_a_slow_consumer(tmp_path: Path) -> None:
    broker = EventBroker(EventStore(tmp_path / "events.db"), max_lag=20)
    bus = bus_for(broker)

    async def scenario() -> None:
        broker.attach(asyncio.get_running_loop())
        told: list[SlowConsumerError] = []
        subscription = await broker.subscribe(on_slow=told.append)
        first = bus.publish(line("a", 0))
        assert len(await drain(subscription, 1)) == 1
        subscription.sent(encode(first))
        for n in range(30):
            bus.publish(line("a", n))
        await asyncio.sleep(0.05)  # the wake-up runs on the loop and notices the lag
        assert told and told[0].lag > 20
        assert told[0].resume_ns == first.timestamp_ns + 1
        with pytest.raises(SlowConsumerError):
            await subscription.next_batch()

    asyncio.run(scenario())
    broker.close()


def test_a_restarted_broker_continues_the_sequence(tmp_path: Path) -> None:
    broker = EventBroker(EventStore(tmp_path / "events.db"))
    bus = bus_for(broker)
    before = [bus.publish(line("a", n)) for n in range(5)]
    broker.close()
    again = EventBroker(EventStore(tmp_path / "events.db"))
    after = bus_for(again).publish(line("a", 5))
    assert after.seq == 6 and after.timestamp_ns > before[-1].timestamp_ns

    async def scenario() -> None:
        again.attach(asyncio.get_running_loop())
        fresh = await again.subscribe()  # without since: only this process's events
        assert await drain(fresh, 1) == [encode(after).payload]
        history = await again.subscribe(since_ns=0)
        assert await drain(history, 6) == [encode(e).payload for e in before + [after]]

    asyncio.run(scenario())
    again.close()


@pytest.mark.parametrize("event", [
    Event(type=EventType.CONTAINER_STDOUT_WRITTEN_TO, root_op_id='r"\u00e9', container_id="c<>&", image_ref=None,
          pkg_ref="/p", data=bytes(range(256)), timestamp_ns=1_700_000_000_123_456_789),
    Event(type=EventType.CONTAINER_STDERR_WRITTEN_TO, root_op_id="r", data=None,
          timestamp_ns=1_700_000_000_000_000_000),
    Event(type=EventType.OP_ENDED, root_op_id="r", op_id="r", pkg_ref="/p", outputs={"x": Value.number(1)}),
    Event(type=EventType.CONTAINER_EXITED, root_op_id="r", exit_code=137, outputs={}),
])
def test_encoding_is_the_events_api_json(event: Event) -> None:
    assert json.loads(encode(event).payload) == event.to_json()
    assert encode(event).payload == json.dumps(event.to_json(), separators=(",", ":")).encode()


def test_retention_keeps_the_latest_ended_roots_in_the_store_and_in_memory(tmp_path: Path) -> None:
    pruned: list[str] = []
    broker = EventBroker(EventStore(tmp_path / "events.db"), retain_ops=3, on_pruned=pruned.extend)
    bus = bus_for(broker)
    for root in ("r1", "r2", "r3", "r4"):
        bus.publish(line(root, 0))
        bus.publish(Event(type=EventType.OP_ENDED, root_op_id=root, op_id=root, pkg_ref="/p"))
        assert broker.flush(10)
    assert pruned == ["r1"]

    async def replay() -> set[str]:
        broker.attach(asyncio.get_running_loop())
        subscription = await broker.subscribe(since_ns=0)  # all of it is still in the memory window
        return {json.loads(payload)["containerStdOutWrittenTo"]["rootOpId"]
                for payload in await drain(subscription, 6) if b"containerStdOut" in payload}

    assert asyncio.run(replay()) == {"r2", "r3", "r4"}
    assert broker.store.read(0, broker.head, roots={"r1"}) == []
    broker.close()
    # A node restarted with a smaller limit prunes at once.
    again = EventBroker(EventStore(tmp_path / "events.db"), retain_ops=1)
    assert {r.root_op_id for r in again.store.read(0, again.head, limit=100)} == {"r4"}
    again.close()
