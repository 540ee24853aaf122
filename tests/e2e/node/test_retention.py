"""Event retention (`opspec node --retain-ops N`): a node keeps the events and scratch files of its latest N
ended root ops and deletes older ones, also those a previous run of the node stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from pytest_opspec.node.client import NodeClient

from .conftest import NodeFactory, receive_until_root_ended, ws_connect

EPOCH = "since=1970-01-01T00:00:00Z"


def roots_of(messages: list[str]) -> list[str]:
    roots = []
    for message in messages:
        document = json.loads(message)
        body = next(value for key, value in document.items() if key != "timestamp")
        if body["rootOpId"] not in roots:
            roots.append(body["rootOpId"])
    return roots


def test_a_node_keeps_the_events_and_files_of_its_latest_ended_ops(node_factory: NodeFactory,
                                                                   make_op: Callable[..., Path],
                                                                   tmp_path: Path) -> None:
    pkg = make_op("report", """
        name: report
        outputs: { report: { file: {} } }
        run:
          container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo x > /r'], files: { /r: $(report) } }
    """)
    data_dir = tmp_path / "data"
    running = node_factory(data_dir=data_dir, retain_ops=3)
    client = NodeClient(running.url, timeout=30)
    ids, reports = [], []
    for _ in range(4):
        op_id = client.start_op(str(pkg))
        ended = client.wait_for_end(op_id, timeout=60)[-1]
        assert ended.outcome is not None and ended.outcome.value == "SUCCEEDED"
        ids.append(op_id)
        reports.append(Path(ended.outputs["report"].data))
    assert running.node.broker.flush(10)  # stored, and so pruned: retention runs as the writer stores an opEnded

    assert not reports[0].exists()
    assert [report.read_text() for report in reports[1:]] == ["x\n"] * 3
    with ws_connect(running.url, EPOCH) as connection:
        assert roots_of(receive_until_root_ended(connection, ids[3])) == ids[1:]
    with ws_connect(running.url, f"{EPOCH}&roots={ids[0]},{ids[1]}") as connection:
        assert roots_of(receive_until_root_ended(connection, ids[1])) == [ids[1]]
    running.stop()

    # A node started on the same history with a lower limit prunes at once.
    again = node_factory(data_dir=data_dir, retain_ops=1)
    with ws_connect(again.url, EPOCH) as connection:
        assert roots_of(receive_until_root_ended(connection, ids[3])) == [ids[3]]
