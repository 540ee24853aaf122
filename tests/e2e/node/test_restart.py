"""The event history survives a restart of the node on the same data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_opspec.node.client import NodeClient
from pytest_opspec.events import EventType, parse_timestamp
from pytest_opspec.backends.runtime import make_runtime
from pytest_opspec.node.core import DataDirInUseError, Node, NodeSettings

from .conftest import NodeFactory, receive_until_root_ended, ws_connect


def test_a_restarted_node_replays_history_and_continues_after_it(node_factory: NodeFactory, echo_op: Path,
                                                                tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = node_factory(data_dir=data_dir)
    old_id = NodeClient(first.url).start_op(echo_op, {"who": "before"})
    old_events = NodeClient(first.url).wait_for_end(old_id, timeout=30)
    with ws_connect(first.url, f"since=1970-01-01T00:00:00Z&roots={old_id}") as connection:
        old_messages = receive_until_root_ended(connection, old_id)
    first.stop()

    second = node_factory(data_dir=data_dir)
    client = NodeClient(second.url)
    with ws_connect(second.url, f"since=1970-01-01T00:00:00Z&roots={old_id}") as connection:
        assert receive_until_root_ended(connection, old_id) == old_messages  # byte for byte
    assert [e.to_json() for e in client.wait_for_end(old_id, timeout=10)] == [e.to_json() for e in old_events]

    new_id = client.start_op(echo_op, {"who": "after"})
    new_events = client.wait_for_end(new_id, timeout=30)
    assert new_events[0].timestamp_ns > old_events[-1].timestamp_ns
    # Without `since`, a subscriber gets what this node process published: the new op, not the old one.
    with ws_connect(second.url) as connection:
        fresh = receive_until_root_ended(connection, new_id)
    assert {json.loads(m)[next(k for k in json.loads(m) if k != "timestamp")]["rootOpId"] for m in fresh} == {new_id}
    # Both ops replay from the store, in order, across the restart.
    since = old_events[0].timestamp
    with client.events(since=since, roots=[old_id, new_id], timeout=10) as stream:
        replayed = []
        for event in stream:
            replayed.append(event)
            if event.type is EventType.OP_ENDED and event.op_id == new_id:
                break
    assert [e.to_json() for e in replayed] == [e.to_json() for e in old_events + new_events]
    assert parse_timestamp(since) == old_events[0].timestamp_ns


def test_two_nodes_cannot_share_a_data_dir(node_factory: NodeFactory, tmp_path: Path) -> None:
    running = node_factory(data_dir=tmp_path / "shared")
    with pytest.raises(DataDirInUseError, match=r"in use by another node \(pid \d+\)"):
        Node(NodeSettings(data_dir=tmp_path / "shared"), make_runtime())
    assert NodeClient(running.url).liveness()
