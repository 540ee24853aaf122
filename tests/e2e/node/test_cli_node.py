"""`opspec node` as its own process: serving, driving it, SIGTERM clean-up, start-up errors."""

from __future__ import annotations

import os
import re
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_opspec.node.client import EventStreamClosedError, NodeClient
from pytest_opspec.events import EventType, Outcome
from pytest_opspec.runtime.base import LABEL_PID
from pytest_opspec.runtime.docker import DockerRuntime

from tests.support import IMAGE_MAP

ENV = {**os.environ, "OPSPEC_IMAGE_MAP": ",".join(f"{k}={v}" for k, v in IMAGE_MAP.items())}
OPSPEC = [sys.executable, "-m", "pytest_opspec.cli"]


@dataclass
class NodeProcess:
    process: subprocess.Popen[str]
    url: str
    stderr_lines: queue.Queue[str]

    def rest_of_stderr(self) -> str:
        text = ""
        while (line := self.stderr_lines.get(timeout=30)) != "":
            text += line
        return text


def start_node(*args: str, env: dict[str, str] | None = None) -> NodeProcess:
    """Start `opspec node`; it announces its URL on stderr."""
    process = subprocess.Popen([*OPSPEC, "node", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=env or ENV)
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in process.stderr:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    seen = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        seen += line
        found = re.search(r"serving the node API on (https?://\S+)", line)
        if found:
            return NodeProcess(process, found[1], lines)
        if not line:
            break
    process.kill()
    raise AssertionError(f"the node did not start: {seen}")


def test_sigterm_kills_running_ops_removes_containers_and_exits_0(tmp_path: Path, make_op) -> None:
    pkg = make_op("long", """
        name: long
        run:
          parallel:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo started; exec sleep 60'] }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'] }
    """)
    node = start_node("--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data"))
    process, url = node.process, node.url
    runtime = DockerRuntime()
    try:
        client = NodeClient(url)
        assert client.liveness()
        op_id = client.start_op(pkg)
        deadline = time.monotonic() + 30
        containers: list[str] = []
        while time.monotonic() < deadline and len(containers) < 2:
            containers = runtime.list_labelled({LABEL_PID: str(process.pid)})[0]
            time.sleep(0.1)
        assert len(containers) == 2, "the op's containers did not start"
        with client.events(since=0, roots=[op_id], timeout=30) as stream:
            process.send_signal(signal.SIGTERM)
            events = []
            with pytest.raises(EventStreamClosedError) as closed:
                for event in stream:
                    events.append(event)
        assert (closed.value.code, closed.value.reason) == (1001, "the node is shutting down")
        assert events[-1].type is EventType.OP_ENDED and events[-1].outcome is Outcome.KILLED
        assert process.wait(60) == 0
        err = node.rest_of_stderr()
        assert "stopped" in err and "Traceback" not in err
        assert runtime.list_labelled({LABEL_PID: str(process.pid)}) == ([], [])
    finally:
        if process.poll() is None:
            process.kill()
        runtime.close()

    # The history outlives the process: a new node on the same data dir replays the killed op.
    again = start_node("--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data"))
    process = again.process
    try:
        replayed = NodeClient(again.url).wait_for_end(op_id, timeout=10)
        assert [e.to_json() for e in replayed] == [e.to_json() for e in events]
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_start_up_errors_are_one_sentence(tmp_path: Path) -> None:
    bad = subprocess.run([*OPSPEC, "node", "--listen", "nowhere"], capture_output=True, text=True, env=ENV)
    assert bad.returncode == 2 and "is not HOST:PORT" in bad.stderr

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run([*OPSPEC, "node", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path / "a")],
                              capture_output=True, text=True, env=ENV, timeout=60)
    assert busy.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in busy.stderr and "Traceback" not in busy.stderr

    no_engine = subprocess.run([*OPSPEC, "node", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "b")],
                               capture_output=True, text=True, timeout=60,
                               env={**ENV, "DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert no_engine.returncode == 1
    assert no_engine.stderr.startswith("opspec: no Docker engine answers")


def test_env_vars_configure_the_node(tmp_path: Path) -> None:
    env = {**ENV, "OPSPEC_NODE_LISTEN": "127.0.0.1:0", "OPSPEC_NODE_DATA_DIR": str(tmp_path / "from-env")}
    started = start_node(env=env)
    process, url = started.process, started.url
    try:
        assert NodeClient(url).liveness()
        assert (tmp_path / "from-env" / "events.db").is_file()
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
