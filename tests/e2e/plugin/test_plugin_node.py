"""The plugin against a node: `--opspec-node-url` (the bundled node as a separate process), the
`node_client` fixture (the session's bundled node, shared by xdist workers), and SIGTERM clean-up."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from pytest_opspec.errors import OpspecError
from pytest_opspec.node.client import NodeClient
from pytest_opspec.runtime.base import LABEL_OWNER, LABEL_PID
from pytest_opspec.runtime.docker import DockerRuntime

from tests.support import IMAGE_MAP
from .test_plugin_runs import GREET, INI, SESSION_LABEL, Lines, write

SERVING = re.compile(r"serving the node API on (http://\S+)")


@pytest.fixture
def node_process(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`opspec node` as its own process on a free port."""
    command = [sys.executable, "-m", "pytest_opspec.cli", "node", "--listen", "127.0.0.1:0",
               "--data-dir", str(tmp_path / "node-data")]
    for source, target in IMAGE_MAP.items():
        command += ["--image-map", f"{source}={target}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = Lines(process.stdout)
    try:
        yield output.wait_for(SERVING, 30).group(1), process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        runtime = DockerRuntime()
        try:
            assert runtime.list_labelled({LABEL_PID: str(process.pid)}) == ([], [])
        finally:
            runtime.close()


def test_scenarios_and_op_runner_run_through_a_node(node_process, pytester: pytest.Pytester) -> None:
    url, _ = node_process
    pytester.makeini(INI)
    write(pytester.path, "ops/greet/op.yml", GREET)
    write(pytester.path, "ops/greet/scenarios.yml", """
        - call: { expect: success, outputs: { greeting: hi world } }
        - name: refused
          call: { expect: failure, scope: { who: nobody } }
        - interpret: { expect: success }
    """)
    write(pytester.path, "ops/test_via_node.py", """
        def test_run(op_runner, node_client):
            result = op_runner.run("greet", {"who": "node"})
            assert result.succeeded, result.summary()
            assert result.outputs == {"greeting": "hi node"}
            assert node_client.base_url in op_runner.backend.description
            # The op ran on the node: its history has this root's events.
            assert [e.type.value for e in node_client.wait_for_end(result.op_id, 10)][-1] == "opEnded"
    """)
    result = pytester.runpytest("--opspec", "ops", "--opspec-node-url", url, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines([f"opspec: *ops run on the node at {url}*"])


def test_a_node_that_does_not_answer_makes_call_items_errors_in_one_sentence(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    write(pytester.path, "ops/greet/op.yml", GREET)
    write(pytester.path, "ops/greet/scenarios.yml", "- call: { expect: failure }\n- interpret: { expect: success }\n")
    started = time.monotonic()
    result = pytester.runpytest("--opspec", "ops", "--opspec-node-url", "http://127.0.0.1:9", "-p", "no:cacheprovider")
    assert time.monotonic() - started < 30
    # An unreachable node is not an expected failure of the op (an error, not a failure); interpret needs no node.
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*no node answers at http://127.0.0.1:9*"])
    assert "Traceback" not in result.stdout.str()


NODE_CLIENT_TEST = """
import os
from pytest_opspec.plugin.session import resources
from pytest_opspec.values import Value

def test_node_client(node_client, request):
    assert node_client.liveness()
    pkg = str(request.config.rootpath / "ops" / "greet")
    op_id = node_client.start_op(pkg, {"who": Value.string(os.environ.get("PYTEST_XDIST_WORKER", "solo"))})
    events = node_client.wait_for_end(op_id, 30)
    assert events[-1].outcome.value == "SUCCEEDED"
    (request.config.rootpath / f"url-{os.environ.get('PYTEST_XDIST_WORKER', 'solo')}").write_text(node_client.base_url)
    (request.config.rootpath / "session-dir").write_text(str(resources(request.config).session_dir))
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "two xdist workers"])
def test_node_client_is_the_sessions_bundled_node(pytester: pytest.Pytester, workers: list[str]) -> None:
    pytester.makeini(INI)
    write(pytester.path, "ops/greet/op.yml", GREET)
    write(pytester.path, "tests/test_a.py", NODE_CLIENT_TEST)
    write(pytester.path, "tests/test_b.py", NODE_CLIENT_TEST.replace("test_node_client", "test_again"))
    result = pytester.runpytest_subprocess("tests", "-p", "no:cacheprovider", *workers)
    result.assert_outcomes(passed=2)
    urls = {path.read_text() for path in pytester.path.glob("url-*")}
    assert len(urls) == 1, "every process of the session uses the same node"
    url = urls.pop()
    with NodeClient(url, timeout=2) as client:  # stopped with the session
        with pytest.raises(OpspecError):
            client.liveness()
    session_dir = Path((pytester.path / "session-dir").read_text())
    assert not session_dir.exists(), "the session's directory (node data, state) is removed at the end"


def test_sigterm_ends_the_session_and_removes_its_containers(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    write(pytester.path, "ops/slow/op.yml", """
        name: slow
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo started; sleep 60'] } }
    """)
    write(pytester.path, "ops/slow/scenarios.yml", "- call: { expect: success }\n")
    process = subprocess.Popen([sys.executable, "-m", "pytest", "--opspec", "ops", "-p", "no:cacheprovider"],
                               cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = Lines(process.stdout)
    runtime = DockerRuntime()
    try:
        session = output.wait_for(SESSION_LABEL, 30).group(1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not runtime.list_labelled({LABEL_OWNER: session})[0]:
            time.sleep(0.1)
        assert runtime.list_labelled({LABEL_OWNER: session})[0], "the op's container did not start"
        process.send_signal(signal.SIGTERM)  # what a CI system sends to cancel a job
        assert process.wait(60) == pytest.ExitCode.INTERRUPTED, "".join(output.lines)
        assert runtime.list_labelled({LABEL_OWNER: session}) == ([], [])
    finally:
        if process.poll() is None:
            process.kill()
        runtime.close()
