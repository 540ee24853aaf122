"""Scenario files as pytest items: collection, ids, interpret/validate semantics, errors (no engine needed)."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from pytest_opspec.plugin.items import ScenarioItem

OP = """\
name: greet
inputs:
  who:
    string:
      default: world
      constraints: { minLength: 2 }
  count:
    number:
      default: 1
      constraints: { format: integer }
run:
  container:
    image: { ref: 'alpine:3.19' }
    cmd: [echo, $(who)]
"""

SCENARIOS = """\
- name: less than two letters
  call:
    expect: failure
    scope: { who: A }
- name: less than two letters
  interpret:
    expect: failure
    scope: { who: { string: A } }
- interpret:
    expect: success
    scope: { count: 3 }
- name: not an integer
  interpret:
    expect: failure
    scope: { count: 1.5 }
- validate:
    expect: success
"""


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Interpret and validate items must not need an engine: point Docker at nothing."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")


def test_one_function_item_per_scenario_with_readable_ids(pytester: pytest.Pytester) -> None:
    write(pytester.path, "ops/greet/op.yml", OP)
    write(pytester.path, "ops/greet/scenarios.yml", SCENARIOS)
    write(pytester.path, "ops/plain/op.yml", "name: plain\n")
    write(pytester.path, "ops/plain/scenarios.json", '[{"name": "binds", "interpret": {"expect": "success"}}]')
    items, _ = pytester.inline_genitems("--opspec", "ops")
    assert [item.nodeid for item in items] == [
        "ops/greet::call[less than two letters]",
        "ops/greet::interpret[less than two letters]",
        "ops/greet::interpret[1]",
        "ops/greet::interpret[not an integer]",
        "ops/greet::validate[0]",  # a validate scenario replaces the package's plain validate item
        "ops/plain::validate",
        "ops/plain::interpret[binds]",
    ]
    scenario_items = [item for item in items if isinstance(item, ScenarioItem)]
    assert len(scenario_items) == 6 and all(isinstance(item, pytest.Function) for item in scenario_items)
    assert items[0].location == ("ops/greet/scenarios.yml", 0, "call[less than two letters]")
    assert items[2].location == ("ops/greet/scenarios.yml", 8, "interpret[1]")


def test_interpret_and_validate_run_without_an_engine(pytester: pytest.Pytester, no_engine: None) -> None:
    write(pytester.path, "ops/greet/op.yml", OP)
    write(pytester.path, "ops/greet/scenarios.yml", SCENARIOS)
    started = time.monotonic()
    result = pytester.runpytest("--opspec", "ops", "-v", "-p", "no:cacheprovider")
    assert time.monotonic() - started < 10
    result.assert_outcomes(passed=4, errors=1)
    # A call needs the engine: an error (not a failure of the op) with the one-sentence reason, no traceback
    # and no hang.
    result.stdout.fnmatch_lines(["*ops/greet::call?less than two letters? ERROR*",
                                 "*no Docker engine answers at unix://*no-engine.sock*"])
    assert "Traceback" not in result.stdout.str() and "docker/" not in result.stdout.str()


def test_scenarios_that_do_not_hold_say_why_at_their_line(pytester: pytest.Pytester, no_engine: None) -> None:
    write(pytester.path, "ops/greet/op.yml", OP)
    write(pytester.path, "ops/greet/scenarios.yml", """\
        - name: wrong expectation
          interpret:
            expect: success
            scope: { who: A, count: 2.5 }
        - interpret:
            expect: failure
        - validate:
            expect: failure
        - name: bad scope value
          interpret:
            expect: success
            scope: { who: { string: [A] } }
        - name: bad scope value
          interpret:
            expect: failure
            scope: { who: { string: [A] } }
    """)
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=4, passed=1)
    output = result.stdout.lines
    assert_in_order(output, [
        "ops/greet/scenarios.yml:1:3: interpret \"wrong expectation\": expected interpretation to succeed; it failed:",
        "error(s) occurred interpreting call to */ops/greet:",
        "  - who: must be at least 2 characters long (got 1)",
        "  - count: does not match format 'integer' (got 2.5)",
        "ops/greet/scenarios.yml:5:3: interpret #1: expected interpretation to fail, but the inputs bound: "
        "count={'number': 1}, who={'string': 'world'}",
        "ops/greet/scenarios.yml:7:3: validate #2: expected ops/greet/op.yml to be invalid, but it has no "
        "validation errors",
        "ops/greet/scenarios.yml:9:3: interpret \"bad scope value\": expected interpretation to succeed; it failed:",
        "ops/greet/scenarios.yml:12:19: scope.who.string: expected a JSON string, got array",
    ])
    assert "Traceback" not in result.stdout.str()


def assert_in_order(lines: list[str], patterns: list[str]) -> None:
    import fnmatch

    position = 0
    for pattern in patterns:
        for index in range(position, len(lines)):
            if fnmatch.fnmatchcase(lines[index], pattern) or lines[index] == pattern:
                position = index + 1
                break
        else:
            raise AssertionError(f"{pattern!r} not found after line {position} in:\n" + "\n".join(lines))


def test_validate_scenarios_expecting_failure_pass_on_invalid_ops(pytester: pytest.Pytester) -> None:
    write(pytester.path, "ops/bad/op.yml", "name: bad\nrun: { container: [] }\n")
    write(pytester.path, "ops/bad/scenarios.yml", """\
        - validate: { expect: failure }
        - interpret: { expect: failure }
        - validate: { expect: success }
    """)
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["ops/bad/op.yml: invalid (1 error, 0 warnings)",
                                 "ops/bad/op.yml:2:19: run.container: expected mapping, got a sequence of 0 items"])


def test_skip_and_xfail_with_reasons(pytester: pytest.Pytester) -> None:
    write(pytester.path, "ops/greet/op.yml", OP)
    write(pytester.path, "ops/greet/scenarios.yml", """\
        - interpret: { expect: success, skip: waiting for the new constraint }
        - validate: { expect: failure, xfail: the op is valid now }
        - name: strict
          validate: { expect: failure, xfail: true }
        - call: { expect: success, skip: true }
    """)
    result = pytester.runpytest("--opspec", "ops", "-rsx", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=2, xfailed=2)
    result.stdout.fnmatch_lines_random(["SKIPPED*waiting for the new constraint",
                                        "XFAIL ops/greet::validate[0] - the op is valid now",
                                        "SKIPPED*skip: in scenarios.yml"])


def test_a_broken_scenario_file_is_a_collection_error_with_lines(pytester: pytest.Pytester) -> None:
    write(pytester.path, "ops/greet/op.yml", OP)
    write(pytester.path, "ops/greet/scenarios.yml", """\
        - call:
            expect: sucess
        - interpret: { expect: success, snapshot: true }
    """)
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "*ERROR collecting ops/greet*",
        "ops/greet/scenarios.yml: invalid scenario file (2 errors)",
        "ops/greet/scenarios.yml:2:13: [0].call.expect: 'sucess' is not one of ['success', 'failure']",
        "ops/greet/scenarios.yml:3:33: [1].interpret.snapshot: unknown key 'snapshot'; expected one of 'expect', "
        "'scope', 'skip', 'xfail'",
    ])
    assert "Traceback" not in result.stdout.str()


def test_op_runner_without_an_engine_errors_in_one_sentence(pytester: pytest.Pytester, no_engine: None) -> None:
    write(pytester.path, "test_ops.py", "def test_run(op_runner):\n    op_runner.run('nowhere')\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_run*", "no Docker engine answers at unix://*no-engine.sock*",
                                 "*short test summary*"])
    assert "Traceback" not in result.stdout.str()


def test_validate_scenarios_count_only_yaml_and_schema_errors(pytester: pytest.Pytester) -> None:
    # As opctl's suite means `validate`: a schema-valid op whose call binds an input the callee does not
    # declare is valid; the static check's finding is shown as a warning (the op fails when it runs).
    write(pytester.path, "ops/caller/op.yml", "name: caller\nrun: { op: { pkg: { ref: callee }, inputs: { nope: 1 } } }\n")
    write(pytester.path, "ops/caller/scenarios.yml", "- validate: { expect: success }\n")
    write(pytester.path, "ops/callee/op.yml", "name: callee\n")
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider", "-W", "default")
    result.assert_outcomes(passed=2)  # caller's validate scenario, callee's validate item
    result.stdout.fnmatch_lines(["*declares no input 'nope'*(the op fails when this is reached)*"])
    # Without the scenario, the package's own validate item runs the static checks as errors.
    (pytester.path / "ops/caller/scenarios.yml").unlink()
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
