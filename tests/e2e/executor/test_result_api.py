"""RunResult and ContainerRun as users expect them: containers that never started, text accessors, wait()."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import pytest

from pytest_opspec.backends.runtime import make_runtime
from pytest_opspec.errors import OpWaitTimeout
from pytest_opspec.events import EventType, Outcome
from pytest_opspec.executor.executor import Executor
from pytest_opspec.executor.runner import OpRunner
from pytest_opspec.runtime.base import PullPolicy

from ...support import TEST_IMAGE


def test_a_container_that_never_started_has_no_exit_code_and_says_why(
        tmp_path: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("missing", "name: missing\nrun:\n  container:\n    image: { ref: 'opspec-test/no-such-image:0' }\n")
    runtime = make_runtime(pull_policy=PullPolicy.NEVER)
    with Executor(runtime, data_dir=tmp_path / "data", close_runtime=True) as executor:
        result = OpRunner(executor, timeout=60).run(pkg)
    assert result.outcome is Outcome.FAILED
    [container] = result.containers
    assert container.exit_code is None and container.started is False
    assert "opspec-test/no-such-image:0" in (container.error or "")
    assert "--opspec-image-map" in (container.error or "")  # what to do about it
    [exited] = [e for e in result.events if e.type is EventType.CONTAINER_EXITED]
    assert "exitCode" not in exited.to_json()["containerExited"]
    assert "exit code None" not in result.summary() and "never started" in result.summary()


def test_output_bytes_have_text_accessors(runner: OpRunner, make_op: Callable[..., Path]) -> None:
    pkg = make_op("talk", """
        name: talk
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'printf "h\\303\\251\\n"; echo oops >&2']
    """)
    [container] = runner.run(pkg).containers
    assert container.started and container.exit_code == 0
    assert container.stdout == "hé\n".encode() and container.stdout_text == "hé\n"
    assert container.stderr == b"oops\n" and container.stderr_text == "oops\n"


def test_wait_raises_on_timeout_and_leaves_the_op_running(runner: OpRunner, make_op: Callable[..., Path]) -> None:
    pkg = make_op("nap", "name: nap\nrun: { container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '30'] } }\n")
    started = runner.start(pkg)
    with pytest.raises(OpWaitTimeout, match=r"still running after 0\.5 s"):
        started.wait(0.5)
    assert not started.done
    begun = time.monotonic()
    result = started.kill()
    assert result.outcome is Outcome.KILLED and time.monotonic() - begun < 20


def test_image_map_wildcards_run_a_whole_registry_path_locally(tmp_path: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("tool", "name: tool\nrun:\n  container:\n    image: { ref: 'opspecpkgs/some-tool:2.1' }\n"
                          "    cmd: [echo, mapped]\n")
    runtime = make_runtime(pull_policy=PullPolicy.NEVER, image_map={"opspecpkgs/*": TEST_IMAGE})
    with Executor(runtime, data_dir=tmp_path / "data", close_runtime=True) as executor:
        result = OpRunner(executor, timeout=60).run(pkg)
    assert result.succeeded and result.containers[0].stdout_text == "mapped\n"
