"""`opspec node` SIGKILLed with ops running: its reaper removes their containers, and the restarted node
ends those ops (opErred with the reason, then opEnded FAILED), so clients waiting for them do not hang."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from pytest_opspec.node.client import NodeClient
from pytest_opspec.events import EventType, Outcome
from pytest_opspec.node.running_ops import INTERRUPTED_MESSAGE
from pytest_opspec.runtime.base import LABEL_ROOT_OP

from tests.support import IMAGE_MAP, labelled

SERVING = re.compile(r"serving the node API on (http://\S+)")


def start_node(data_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`opspec node` in a process group of its own (so the test can kill the whole group)."""
    command = [sys.executable, "-m", "pytest_opspec.cli", "node", "--listen", "127.0.0.1:0", "--data-dir",
               str(data_dir), *(arg for k, v in IMAGE_MAP.items() for arg in ("--image-map", f"{k}={v}"))]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                                   start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = SERVING.search(log.read_text(errors="replace"))
        if found:
            return process, found[1]
        assert process.poll() is None, log.read_text()
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the node did not start:\n{log.read_text()}")


def wait_until(condition: Callable[[], bool], timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def test_a_killed_node_s_ops_end_at_restart_and_their_containers_are_removed(tmp_path: Path, make_op) -> None:
    pkg = make_op("long", """
        name: long
        run:
          parallel:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo started; exec sleep 60'], name: one }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'] }
    """)
    data_dir = tmp_path / "data"
    process, url = start_node(data_dir, tmp_path / "first.log")
    try:
        with NodeClient(url, timeout=30) as client:
            op_ids = [client.start_op(pkg), client.start_op(pkg)]
        wait_until(lambda: all(len(labelled({LABEL_ROOT_OP: op_id})[0]) == 2 for op_id in op_ids), 30,
                   "the ops' containers did not start")
        assert all(labelled({LABEL_ROOT_OP: op_id})[1] for op_id in op_ids), "each op has its network"
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the node and everything in its process group
        process.wait(10)

    # The reaper (in a session of its own) removes the containers and networks within seconds.
    wait_until(lambda: all(labelled({LABEL_ROOT_OP: op_id}) == ([], []) for op_id in op_ids), 20,
               "the killed node's containers or networks are still there")

    process, url = start_node(data_dir, tmp_path / "second.log")
    try:
        with NodeClient(url, timeout=30) as client:
            for op_id in op_ids:
                events = client.wait_for_end(op_id, timeout=10)  # replayed from the store
                erred, ended = events[-2], events[-1]
                assert (erred.type, erred.op_id, erred.msg) == (EventType.OP_ERRED, op_id, INTERRUPTED_MESSAGE)
                assert (ended.type, ended.op_id, ended.outcome) == (EventType.OP_ENDED, op_id, Outcome.FAILED)
                assert ended.pkg_ref == str(pkg)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    # A second restart does not end them again.
    process, url = start_node(data_dir, tmp_path / "third.log")
    try:
        with NodeClient(url, timeout=30) as client:
            for op_id in op_ids:
                ends = [e for e in client.wait_for_end(op_id, timeout=10) if e.type is EventType.OP_ENDED]
                assert [e.op_id for e in ends] == [op_id]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
