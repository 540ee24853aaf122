"""What a RunResult tells about a failure, and executor options the pytest plugin relies on."""

from __future__ import annotations

from pathlib import Path

from pytest_opspec.events import Outcome
from pytest_opspec.executor.executor import Executor
from pytest_opspec.executor.result import CallSite
from pytest_opspec.executor.runner import OpRunner
from pytest_opspec.runtime.base import LABEL_OWNER
from pytest_opspec.runtime.docker import DockerRuntime

from tests.support import IMAGE_MAP


def test_failed_call_names_the_deepest_failing_call(runner: OpRunner, make_op) -> None:
    parent = make_op("parent", """
        name: parent
        run:
          serial:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, fine] }
            - op: { pkg: { ref: child } }
    """)
    child = make_op("child", """
        name: child
        run:
          parallel:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'exit 3'] }
    """)
    result = runner.run(parent)
    assert result.outcome is Outcome.FAILED
    assert result.failed_call == CallSite(str(child / "op.yml"), "/run/parallel/0/container")


def test_invalid_outputs_point_at_the_outputs(runner: OpRunner, make_op) -> None:
    pkg = make_op("outs", """
        name: outs
        outputs:
          n: { number: { default: 1, constraints: { minimum: 5 } } }
    """)
    result = runner.run(pkg)
    assert result.outcome is Outcome.FAILED
    assert result.failed_call == CallSite(str(pkg / "op.yml"), "/outputs")


def test_a_failure_before_any_call_has_no_call_site(runner: OpRunner, make_op) -> None:
    pkg = make_op("strict", """
        name: strict
        inputs:
          n: { number: { constraints: { minimum: 5 } } }
        run:
          container: { image: { ref: 'alpine:3.19' } }
    """)
    result = runner.run(pkg, {"n": 1})
    assert result.outcome is Outcome.FAILED and result.failed_call is None
    assert "must be greater than or equal to 5" in result.error


def test_keep_containers_leaves_finished_containers_until_swept(make_op, tmp_path: Path) -> None:
    pkg = make_op("kept", "name: kept\nrun: { container: { image: { ref: 'alpine:3.19' }, cmd: [echo, hi] } }\n")
    runtime = DockerRuntime(image_map=IMAGE_MAP, keep_containers=True)
    executor = Executor(runtime, data_dir=tmp_path / "data", keep_containers=True)
    try:
        assert OpRunner(executor).run(pkg, timeout=60).succeeded
        executor.close()
        containers, _ = runtime.list_labelled({LABEL_OWNER: executor.owner})
        assert len(containers) == 1
    finally:
        runtime.sweep({LABEL_OWNER: executor.owner})
        assert runtime.list_labelled({LABEL_OWNER: executor.owner}) == ([], [])
        runtime.close()
