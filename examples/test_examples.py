"""Op packages driven from Python: run them with `op_runner`, check outputs, compare runs with snapshots.

`pytest --opspec examples/` runs these beside the packages' scenarios. Package refs are relative to
this file's directory. Update the snapshots in __snapshots__/ with `--snapshot-update`.
"""

from __future__ import annotations

from pytest_opspec.events import Outcome


def test_greet_team_greets_both_in_order(op_runner, op_snapshot) -> None:
    result = op_runner.run("greet-team", {"first": "Ada", "second": "Grace"}, check=True)
    assert result.outputs == {"firstGreeting": "Hello, Ada!", "secondGreeting": "Hello, Grace!"}
    assert [c.output for c in result.containers] == ["greeting=Hello, Ada!\n", "greeting=Hello, Grace!\n"]
    assert result == op_snapshot


def test_parallel_checks_pass_together(op_runner, op_snapshot) -> None:
    result = op_runner.run("parallel-checks", {"text": "opspec, briefly", "maxLength": 20}, check=True)
    assert [c.exit_code for c in result.containers] == [0, 0]
    assert result == op_snapshot  # the two checks' events are grouped per branch, whichever ends first


def test_parallel_checks_fail_when_one_check_fails(op_runner) -> None:
    result = op_runner.run("parallel-checks", {"text": "nothing to see here"})
    assert result.outcome is Outcome.FAILED
    assert result.error == "nonzero container exit code. Exit code was: 1"
    # The failing check exits 1; its sibling either passed already or was stopped (137).
    assert 1 in [c.exit_code for c in result.containers]


def test_a_started_op_can_be_killed(op_runner) -> None:
    running = op_runner.start("build-and-test")
    result = op_runner.kill(running)
    assert result.outcome in (Outcome.KILLED, Outcome.SUCCEEDED)  # it may have finished first
