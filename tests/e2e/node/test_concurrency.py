"""10 concurrent ops, 5 subscribers: every subscriber gets every event it asked for, once, in order."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable
from urllib.parse import quote

from pytest_opspec.node.client import NodeClient
from pytest_opspec.events import format_timestamp, parse_timestamp

from .conftest import NodeFactory, ws_connect

OPS = 10


def collect(base_url: str, query: str, wanted: Callable[[], set[str] | None], out: dict[str, list[str]], key: str,
            ready: threading.Event) -> None:
    """Read raw messages until every root op in ``wanted()`` (None until known) has ended."""
    messages: list[str] = []
    ended: set[str] = set()
    with ws_connect(base_url, query) as connection:
        ready.set()
        while True:
            message = connection.recv(timeout=60)
            messages.append(message)
            op_ended = json.loads(message).get("opEnded")
            if op_ended and op_ended["opId"] == op_ended["rootOpId"]:
                ended.add(op_ended["opId"])
            roots = wanted()
            if roots is not None and roots <= ended:
                break
    out[key] = messages


def test_ten_concurrent_ops_and_five_subscribers(node_factory: NodeFactory, make_op) -> None:
    running = node_factory()
    pkg = make_op("busy", """
        name: busy
        inputs:
          n: { string: {} }
        run:
          serial:
            - container:
                image: { ref: 'alpine' }
                cmd: [sh, -c, 'for i in $(seq 1 100); do echo "$n out $i"; echo "$n err $i" >&2; done']
                envVars: { n: }
            - container:
                image: { ref: 'alpine' }
                cmd: [sh, -c, 'seq 1 50']
    """)
    client = NodeClient(running.url)
    since = quote(format_timestamp(time.time_ns()))
    results: dict[str, list[str]] = {}
    ids: list[str] = []
    threads = []

    def subscriber(key: str, query: str, roots: set[str] | None = None) -> None:
        ready = threading.Event()
        wanted = (lambda: roots) if roots is not None else (lambda: set(ids) if len(ids) == OPS else None)
        thread = threading.Thread(target=collect, args=(running.url, query, wanted, results, key, ready))
        thread.start()
        assert ready.wait(10)
        threads.append(thread)

    # Three live subscribers from before the start (one with the since filter, two without).
    subscriber("live-1", "")
    subscriber("live-2", "")
    subscriber("live-3", f"since={since}")
    with ThreadPoolExecutor(OPS) as pool:
        futures = [pool.submit(client.start_op, pkg, {"n": f"op{i}"}) for i in range(OPS)]
        ids.extend(future.result() for future in futures)
        # Two more join while the ops run: their replay turns into the live stream mid-flight.
        time.sleep(0.3)
        subscriber("late-all", f"since={since}")
        subscriber("late-half", f"since={since}&roots={','.join(ids[:5])}", set(ids[:5]))
    for thread in threads:
        thread.join(90)
        assert not thread.is_alive()

    broker = running.node.broker
    assert broker.flush(10)
    stored = [r.payload.decode() for r in broker.store.read(0, broker.head, limit=1_000_000)]
    half = [r.payload.decode() for r in broker.store.read(0, broker.head, roots=ids[:5], limit=1_000_000)]
    # Per op: opStarted; 2 x (containerStarted, containerExited); 200 + 50 output lines; serialCallEnded; opEnded.
    assert len(stored) == OPS * 257
    for key in ("live-1", "live-2", "live-3", "late-all"):
        assert results[key] == stored, key
    assert results["late-half"] == half
    # Every op's own events are complete and end with its opEnded.
    for op_id in ids:
        events = client.wait_for_end(op_id, timeout=30)
        assert events[-1].outcome.value == "SUCCEEDED"
        assert sum(1 for e in events if e.type.value == "containerStdOutWrittenTo") == 150
    stamps = [parse_timestamp(json.loads(m)["timestamp"]) for m in stored]
    assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False))
