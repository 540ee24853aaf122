"""pytest's own habits on op package items: ids re-run, --lf/--ff/--sw, -k/-m, --opspec, ini paths, no engine."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

GOOD = """
name: hello
inputs:
  who: { string: { constraints: { minLength: 2 } } }
run:
  container: { image: { ref: 'alpine:3.19' }, cmd: [echo, $(who)] }
"""

SCENARIOS = """
- name: greets someone
  call: { expect: success, scope: { who: Ada } }
- name: binds a name
  interpret: { expect: success, scope: { who: Ada } }
- name: wrongly expects one letter to bind
  interpret: { expect: success, scope: { who: A } }
"""


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    # No engine: these tests must not need one (call items are deselected or reported as such).
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    write(pytester.path, "examples/hello/op.yml", GOOD)
    write(pytester.path, "examples/hello/scenarios.yml", SCENARIOS)
    write(pytester.path, "test_plain.py", "def test_plain():\n    pass\n")
    return pytester.path


def test_an_id_as_printed_reruns_that_item(project: Path, pytester: pytest.Pytester) -> None:
    for extra in ([], ["--opspec", "examples"]):
        result = pytester.runpytest("examples/hello::interpret[binds a name]", "-v", *extra)
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["examples/hello::interpret[[]binds a name] PASSED*"])
    # A package named on the command line is collected without --opspec; a kind selects its items.
    pytester.runpytest("examples/hello", "-m", "not opspec_engine").assert_outcomes(passed=2, failed=1)
    pytester.runpytest("examples/hello::interpret").assert_outcomes(passed=1, failed=1)


def test_lf_ff_and_sw_rerun_scenario_items(project: Path, pytester: pytest.Pytester) -> None:
    run = ["--opspec", "examples", "test_plain.py", "-m", "not opspec_engine"]
    pytester.runpytest(*run).assert_outcomes(passed=3, failed=1)
    last_failed = pytester.runpytest(*run, "--lf", "-v")
    last_failed.assert_outcomes(failed=1)
    last_failed.stdout.fnmatch_lines(["*examples/hello::interpret[[]wrongly expects one letter to bind] FAILED*"])
    failed_first = pytester.runpytest(*run, "--ff", "-v")
    failed_first.assert_outcomes(passed=3, failed=1)
    failed_first.stdout.fnmatch_lines(["*::interpret[[]wrongly expects one letter to bind] FAILED*", "*PASSED*"])
    first_step = pytester.runpytest(*run, "--sw")
    assert first_step.parseoutcomes()["failed"] == 1
    stepwise = pytester.runpytest(*run, "--sw", "-v")
    stepwise.assert_outcomes(failed=1)
    stepwise.stdout.fnmatch_lines(["*::interpret[[]wrongly expects one letter to bind] FAILED*"])


def test_k_and_m_select_items(project: Path, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--opspec", "examples", "-k", "binds", "-v")
    result.assert_outcomes(passed=1, deselected=3)
    engine_free = pytester.runpytest("--opspec", "examples", "-m", "not opspec_engine", "--strict-markers")
    engine_free.assert_outcomes(passed=2, failed=1, deselected=1)
    only_engine = pytester.runpytest("--opspec", "examples", "-m", "opspec_engine", "--collect-only", "-q")
    only_engine.stdout.fnmatch_lines(["examples/hello::call[[]greets someone]", "1/4 tests collected (3 deselected)*"])


def test_op_runner_tests_carry_the_engine_marker(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "test_ops.py", "def test_runs(op_runner):\n    pass\n\ndef test_pure():\n    pass\n")
    result = pytester.runpytest("test_ops.py", "-m", "not opspec_engine", "-v")
    result.assert_outcomes(passed=1, deselected=1)


def test_opspec_takes_one_path_per_flag(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "more/other/op.yml", "name: other\nrun: { container: { image: { ref: 'alpine:3.19' } } }\n")
    result = pytester.runpytest("--opspec", "examples", "test_plain.py", "--opspec", "more", "-m", "not opspec_engine",
                                "-v")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines_random(["test_plain.py::test_plain PASSED*", "more/other::validate PASSED*"])


def test_ini_paths_do_not_add_packages_to_named_test_files(project: Path, pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nopspec_paths = examples\n")
    pytester.runpytest("test_plain.py").assert_outcomes(passed=1)
    pytester.runpytest("-m", "not opspec_engine").assert_outcomes(passed=3, failed=1)  # no args: the ini's paths


def test_without_an_engine_engine_items_error_once_each_with_one_message(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "test_ops.py", "def test_runs(op_runner):\n    op_runner.run('examples/hello')\n")
    result = pytester.runpytest("--opspec", "examples", "test_ops.py", "-k", "call or runs")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*no Docker engine answers at unix://*no-engine.sock*"])
    assert "Traceback" not in result.stdout.str()
    skipped = pytester.runpytest("--opspec", "examples", "test_ops.py", "-k", "call or runs",
                                 "--opspec-skip-without-engine", "-rs")
    skipped.assert_outcomes(skipped=2)
    skipped.stdout.fnmatch_lines(["SKIPPED*no Docker engine answers*"])
