"""`pytest --opspec` and the fixtures running real ops: call scenarios, reports, snapshots, xdist, clean-up."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import docker
import pytest

from pytest_opspec.runtime.base import LABEL_OWNER
from pytest_opspec.runtime.docker import DockerRuntime

from tests.support import TEST_IMAGE, labelled

INI = f"[pytest]\nopspec_image_map = alpine:3.19={TEST_IMAGE}\n"
SESSION_LABEL = re.compile(rf"containers labelled {re.escape(LABEL_OWNER)}=(\S+)")


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    pytester.makeini(INI)
    return pytester.path


def session_id(result: pytest.RunResult) -> str:
    match = SESSION_LABEL.search(result.stdout.str())
    assert match, "the session header names the session's label"
    return match.group(1)


GREET = """
name: greet
inputs:
  who: { string: { default: world } }
outputs:
  greeting: { string: {} }
run:
  container:
    image: { ref: 'alpine:3.19' }
    cmd: [sh, -c, 'test "$WHO" != nobody && echo "greeting=hi $WHO"']
    envVars: { WHO: $(who) }
    stdOut: { 'greeting=': greeting }
"""


def test_call_scenarios_check_the_outcome_and_outputs(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "ops/greet/op.yml", GREET)
    write(project, "ops/greet/scenarios.yml", """
        - name: greets
          call: { expect: success, outputs: { greeting: hi world } }
        - name: typed arg
          call: { expect: success, scope: { who: { string: Ada } }, outputs: { greeting: { string: hi Ada } } }
        - name: refuses nobody
          call: { expect: failure, scope: { who: nobody } }
        - name: wrong output
          call: { expect: success, outputs: { greeting: hello world, other: 1 } }
        - name: not a failure
          call: { expect: failure }
        - name: unknown package
          call: { expect: failure, opRef: ../nowhere }
    """)
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=3)  # with the package's validate item
    result.stdout.fnmatch_lines([
        "ops/greet/scenarios.yml:8:37: call \"wrong output\": outputs differ:",
        "  greeting: expected 'hello world', got 'hi world'",
        "  output 'other' was not produced (outputs: greeting)",
        "op */ops/greet ended SUCCEEDED",
        "container * (alpine:3.19) exit code 0; peak *:",
        "  | greeting=hi world",
        "ops/greet/scenarios.yml:9:3: call \"not a failure\": expected the op to fail; it ended SUCCEEDED",
        # A package that does not resolve is a broken test, not an expected failure.
        "ops/greet/scenarios.yml:11:3: call \"unknown package\": the package does not resolve: *nowhere*",
    ])
    assert labelled({LABEL_OWNER: session_id(result)}) == ([], [])


def test_a_failure_report_locates_the_failing_call_and_masks_secrets(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "ops/deploy/op.yml", """
        name: deploy
        inputs:
          token: { string: { isSecret: true } }
          target: { string: {} }
        run:
          serial:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, preparing] }
            - op:
                pkg: { ref: push }
                inputs: { token: }
    """)
    write(project, "ops/push/op.yml", """
        name: push
        inputs:
          token: { string: { isSecret: true } }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'for i in $(seq 1 25); do echo "line $i"; done; echo "denied for $TOKEN" >&2; exit 3']
            envVars: { TOKEN: $(token) }
    """)
    write(project, "ops/deploy/scenarios.yml", """
        - name: pushes
          call:
            expect: success
            scope: { token: s3cr3t-t0ken, target: prod }
    """)
    result = pytester.runpytest("--opspec", "ops/deploy", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    result.stdout.fnmatch_lines([
        'ops/deploy/scenarios.yml:1:3: call "pushes": expected the op to succeed; it ended FAILED',
        "op */ops/deploy ended FAILED",
        "error: nonzero container exit code. Exit code was: 3",
        "failed in: deploy > push",
        "failing call: ops/push/op.yml:5:3: run.container",
        "  4 | run:",
        "> 5 |   container:",
        "    |   ^",
        "args:",
        "  target = prod",
        "  token = <secret:token>",
        "container * (alpine:3.19) exit code 3; peak *:",
        "  | line 7",
    ])
    assert "  | line 6\n" not in output and "  | line 25" in output and "  | denied for <secret:token>" in output
    assert "s3cr3t-t0ken" not in output


def test_a_timed_out_op_is_killed_and_is_not_an_expected_failure(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "ops/slow/op.yml", "name: slow\nrun: { container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '30'] } }\n")
    write(project, "ops/slow/scenarios.yml", "- call: { expect: failure, timeout: 1 }\n")
    started = time.monotonic()
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    assert time.monotonic() - started < 15
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["ops/slow/scenarios.yml:1:3: call #0: the op did not end within 1 s and was killed "
                                 "(a killed op is neither a success nor an expected failure)",
                                 "op */ops/slow ended KILLED (timed out)"])
    assert labelled({LABEL_OWNER: session_id(result)}) == ([], [])


PARALLEL = """
name: par
outputs:
  report: { file: {} }
  out: { dir: {} }
run:
  serial:
    - parallel:
        - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, left] }
        - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, right] }
        - container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo {word} >&2'] }
    - container:
        image: { ref: 'alpine:3.19' }
        cmd: [sh, -c, 'echo {word} > /report.txt; mkdir -p /out/sub; echo x > /out/sub/x.txt']
        files: { /report.txt: $(report) }
        dirs: { /out: $(out) }
"""


def test_snapshots_are_created_compared_and_updated(project: Path, pytester: pytest.Pytester) -> None:
    op_yml = write(project, "ops/par/op.yml", PARALLEL.replace("{word}", "before"))
    write(project, "ops/par/scenarios.yml", "- name: runs\n  call: { expect: success, snapshot: true }\n")
    write(project, "ops/test_par.py", """
        def test_par(op_runner, op_snapshot):
            assert op_runner.run("par", check=True) == op_snapshot
    """)
    scenario_file = project / "ops/par/__snapshots__/par/call[runs].json"
    test_file = project / "ops/__snapshots__/test_par/test_par.json"
    run = ["--opspec", "ops", "-p", "no:cacheprovider", "-k", "not validate"]

    missing = pytester.runpytest(*run)
    missing.assert_outcomes(failed=2)
    missing.stdout.fnmatch_lines(['ops/par/scenarios.yml:2:38: call "runs": the run differs from its snapshot '
                                  '(update it with --snapshot-update):', "Snapshot 'call?runs?' does not exist!"])
    assert not scenario_file.exists()

    pytester.runpytest(*run, "--snapshot-update").assert_outcomes(passed=2)
    created = scenario_file.read_text()
    assert test_file.read_text() == created  # the same run, the same normal form
    assert '"report": {"file": "before\\n"}' in created
    assert '"out": {"dir": {"sub/": "dir", "sub/x.txt": "2 bytes, sha256 ' in created
    assert '{"parallel": [' in created and '"containerId": "container-3"' in created
    pytester.runpytest(*run).assert_outcomes(passed=2)  # stable, whichever parallel branch ends first

    op_yml.write_text(textwrap.dedent(PARALLEL.replace("{word}", "after")).lstrip())
    changed = pytester.runpytest(*run)
    changed.assert_outcomes(failed=2)
    changed.stdout.fnmatch_lines(['*-*"report": {"file": "before\\n"}*', '*+*"report": {"file": "after\\n"}*'])
    pytester.runpytest(*run, "--snapshot-update").assert_outcomes(passed=2)
    assert '"report": {"file": "after\\n"}' in scenario_file.read_text()


def test_unused_scenario_snapshots_are_reported_and_removed_on_update(project: Path, pytester: pytest.Pytester,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # syrupy looks for unused snapshots where some test of the same place still takes one. It leaves that
    # report to the xdist controller when PYTEST_XDIST_WORKER is set, as it is when this suite runs with -n.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    write(project, "ops/greet/op.yml", GREET)
    write(project, "ops/greet/scenarios.yml", "- name: a\n  call: { expect: success, snapshot: true }\n"
                                              "- name: b\n  call: { expect: success, snapshot: true }\n")
    run = ["--opspec", "ops", "-p", "no:cacheprovider"]
    pytester.runpytest(*run, "--snapshot-update").assert_outcomes(passed=3)
    kept, dropped = (project / "ops/greet/__snapshots__/greet" / name for name in ("call[a].json", "call[b].json"))
    assert kept.read_text() == dropped.read_text()
    write(project, "ops/greet/scenarios.yml", "- name: a\n  call: { expect: success, snapshot: true }\n"
                                              "- name: b\n  call: { expect: success }\n")
    unused = pytester.runpytest(*run)
    assert unused.ret != pytest.ExitCode.OK
    unused.stdout.fnmatch_lines(["*1 snapshot passed. 1 snapshot unused.*"])
    pytester.runpytest(*run, "--snapshot-update").assert_outcomes(passed=3)
    assert kept.exists() and not dropped.exists()


def test_op_runner_runs_starts_kills_and_cleans_up(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "ops/greet/op.yml", GREET)
    write(project, "ops/slow/op.yml", """
        name: slow
        run:
          container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo started; sleep 60'], name: sleeper }
    """)
    write(project, "ops/test_ops.py", """
        import time
        from pytest_opspec.events import Outcome

        def test_run_gives_outcome_outputs_events_and_containers(op_runner):
            result = op_runner.run("greet", {"who": "Ada"})
            assert result.outcome is Outcome.SUCCEEDED and result.outputs == {"greeting": "hi Ada"}
            assert [c.exit_code for c in result.containers] == [0] and result.containers[0].output == "greeting=hi Ada\\n"
            assert [e.type.value for e in result.events][0] == "opStarted"

        def test_kill(op_runner):
            running = op_runner.start("slow")
            while not any(e.type.value == "containerStdOutWrittenTo" for e in running.events):
                time.sleep(0.05)
            assert op_runner.kill(running).outcome is Outcome.KILLED

        def test_left_running_is_killed_after_the_test(op_runner):
            op_runner.start("slow")

        def test_check_fails_with_a_report(op_runner):
            op_runner.run("greet", {"who": "nobody"}, check=True)
    """)
    started = time.monotonic()
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider", "-k", "not validate")
    assert time.monotonic() - started < 30
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*test_check_fails_with_a_report*", "op */ops/greet ended FAILED",
                                 "failing call: ops/greet/op.yml:7:3: run.container", "*exit code 1; peak *:"])
    assert labelled({LABEL_OWNER: session_id(result)}) == ([], [])


WORKER_TEST = """
import os
from pytest_opspec.plugin.session import resources
from pytest_opspec.runtime.base import LABEL_OWNER
from pytest_opspec.runtime.docker import DockerRuntime

def test_worker_labels_with_the_session_id(op_runner, request):
    session = resources(request.config).session_id
    running = op_runner.start("slow")
    runtime = DockerRuntime()
    try:
        while not runtime.list_labelled({LABEL_OWNER: session})[0]:
            pass
    finally:
        runtime.close()
    (request.config.rootpath / "seen").write_text(f"{os.environ.get('PYTEST_XDIST_WORKER')} {session}")
"""


def test_two_xdist_workers_share_the_session_and_clean_up(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "ops/greet/op.yml", GREET)
    write(project, "ops/greet/scenarios.yml", """
        - call: { expect: success }
        - call: { expect: failure, scope: { who: nobody } }
        - interpret: { expect: success }
        - validate: { expect: success }
    """)
    write(project, "ops/slow/op.yml", "name: slow\nrun: { container: { image: { ref: 'alpine:3.19' }, "
                                      "cmd: [sleep, '60'], name: sleeper } }\n")
    write(project, "ops/test_worker.py", WORKER_TEST)
    result = pytester.runpytest_subprocess("-n", "2", "--opspec", "ops", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    session = session_id(result)
    assert re.fullmatch(rf"gw[01] {session}", (project / "seen").read_text())
    assert labelled({LABEL_OWNER: session}) == ([], [])


def test_what_dead_sessions_left_is_swept_at_start(project: Path, pytester: pytest.Pytester) -> None:
    # A lease whose holder exited without releasing it (and without a reaper): provably dead.
    script = ("import json; from pytest_opspec.runtime.lease import Lease; "
              "print(json.dumps(Lease.acquire('test-dead', reaper=False).labels))")
    dead_lease = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                           check=True).stdout)
    runtime = DockerRuntime()
    stale_owner = f"pytest-stale-{os.getpid()}"
    labels = {LABEL_OWNER: stale_owner, **dead_lease}
    try:
        engine = docker.APIClient(version="auto")
        engine.create_container(TEST_IMAGE, command=["true"], labels=labels)
        engine.close()
        runtime.create_network(f"opspec-{stale_owner}", labels)
        assert [len(found) for found in runtime.list_labelled({LABEL_OWNER: stale_owner})] == [1, 1]
        write(project, "ops/greet/op.yml", GREET)
        write(project, "ops/greet/scenarios.yml", "- call: { expect: success }\n")
        pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider").assert_outcomes(passed=2)
        assert runtime.list_labelled({LABEL_OWNER: stale_owner}) == ([], [])
    finally:
        runtime.sweep({LABEL_OWNER: stale_owner})
        runtime.close()


class Lines:
    """Reads a process's output in the background, so a test can wait for a line."""

    def __init__(self, stream) -> None:  # noqa: ANN001
        self.lines: list[str] = []
        self._thread = threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True)
        self._thread.start()

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = pattern.search(line)
                if match:
                    return match
            time.sleep(0.05)
        raise AssertionError(f"no line matched {pattern.pattern!r} in:\n" + "".join(self.lines))


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "two xdist workers"])
def test_ctrl_c_during_a_running_op_leaves_nothing_behind(project: Path, workers: list[str]) -> None:
    write(project, "ops/slow/op.yml", """
        name: slow
        run:
          parallel:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo started; sleep 60'], name: a }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'], name: b }
    """)
    write(project, "ops/slow/scenarios.yml", "- call: { expect: success }\n- call: { expect: success }\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--opspec", "ops", "-p", "no:cacheprovider", *workers],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = Lines(process.stdout)
    runtime = DockerRuntime()
    try:
        session = output.wait_for(SESSION_LABEL, 30).group(1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            containers, networks = runtime.list_labelled({LABEL_OWNER: session})
            if len(containers) >= 2 and networks:
                break
            time.sleep(0.1)
        assert len(containers) >= 2 and networks, "the op's containers and network did not start"
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert process.wait(60) == pytest.ExitCode.INTERRUPTED, "".join(output.lines)
        assert runtime.list_labelled({LABEL_OWNER: session}) == ([], [])
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        runtime.close()


def test_keep_containers_leaves_them_for_debugging(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "ops/greet/op.yml", GREET)
    write(project, "ops/greet/scenarios.yml", "- call: { expect: success }\n")
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider", "--opspec-keep-containers")
    result.assert_outcomes(passed=2)
    session = session_id(result)
    runtime = DockerRuntime()
    try:
        assert len(runtime.list_labelled({LABEL_OWNER: session})[0]) == 1
    finally:
        runtime.sweep({LABEL_OWNER: session})
        runtime.close()
