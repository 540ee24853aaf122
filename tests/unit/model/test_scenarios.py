"""Scenario files: loading, file:line errors, ids, scope typing, expected outputs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from pytest_opspec.limits import Limits, Network
from pytest_opspec.model import Param
from pytest_opspec.resources import load_json_schema
from pytest_opspec.model.scenarios import (Expect, Kind, ScenarioFileError, ScopeError, find_scenario_file, load_scenarios,
                                     output_mismatches, scenario_ids, scope_args)
from pytest_opspec.values import Value, ValueType


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def test_the_schema_is_valid_draft_07() -> None:
    Draft7Validator.check_schema(load_json_schema("scenarios.schema.json"))


def test_opctl_format_and_extensions_load(tmp_path: Path) -> None:
    file = write(tmp_path, "scenarios.yml", """
        - name: less than minimum
          call:
            expect: failure
            scope:
              number: { number: 1 }
        - interpret:
            expect: success
            scope: { who: Ada }
        - validate:
            expect: success
            skip: not today
        - call:
            expect: success
            outputs: { greeting: hi }
            snapshot: true
            timeout: 5
            xfail: true
            opRef: ../other
    """)
    first, second, third, fourth = load_scenarios(file)
    assert (first.kind, first.expect, first.name, dict(first.scope)) == (
        Kind.CALL, Expect.FAILURE, "less than minimum", {"number": {"number": 1}})
    assert first.where("call", "scope", "number") == f"{file}:5:15"
    assert (second.kind, second.name, second.label) == (Kind.INTERPRET, None, "interpret #1")
    assert (third.kind, third.skip, third.xfail) == (Kind.VALIDATE, "not today", None)
    assert (fourth.outputs, fourth.snapshot, fourth.timeout, fourth.xfail, fourth.op_ref) == (
        {"greeting": "hi"}, True, 5, "", "../other")


def test_json_files_load_with_positions(tmp_path: Path) -> None:
    file = write(tmp_path, "scenarios.json", json.dumps(
        [{"validate": {"expect": "success"}}, {"call": {"expect": "maybe", "scope": {}}}], indent=2))
    with pytest.raises(ScenarioFileError) as raised:
        load_scenarios(file)
    assert str(raised.value).splitlines() == [
        f"{file}: invalid scenario file (1 error)",
        f"{file}:9:17: [1].call.expect: 'maybe' is not one of ['success', 'failure']",
    ]


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    file = write(tmp_path, "scenarios.yml", """
        - name: two kinds
          call: { expect: success }
          validate: { expect: success }
        - neither: 1
        - call: { scope: {} }
        - interpret: { expect: success, outputs: {} }
        - call: { expect: success, timeout: 0 }
    """)
    with pytest.raises(ScenarioFileError) as raised:
        load_scenarios(file)
    lines = str(raised.value).splitlines()
    assert lines[0] == f"{file}: invalid scenario file (6 errors)"
    assert lines[1:] == [
        f"{file}:1:3: [0]: a scenario needs exactly one of 'call', 'interpret' or 'validate'; it has 'call' and "
        "'validate'",
        f"{file}:4:3: [1]: a scenario needs exactly one of 'call', 'interpret' or 'validate'; it has none",
        f"{file}:4:3: [1].neither: unknown key 'neither'; expected one of 'name', 'call', 'interpret', 'validate'",
        f"{file}:5:9: [2].call: 'expect' is a required property",
        f"{file}:6:33: [3].interpret.outputs: unknown key 'outputs'; expected one of 'expect', 'scope', 'skip', "
        "'xfail'",
        f"{file}:7:37: [4].call.timeout: 0 is less than or equal to the minimum of 0",
    ]


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty; expected a list of scenarios"),
    ("# nothing yet\n\n", "the file is empty; expected a list of scenarios"),
    ("call: {expect: success}\n", "a scenario file holds a list of scenarios, not a mapping"),
    ("- [\n", "invalid YAML"),
])
def test_broken_files(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "scenarios.yml"
    file.write_text(text)
    with pytest.raises(ScenarioFileError) as raised:
        load_scenarios(file)
    assert message in str(raised.value)
    assert str(file) in str(raised.value)


def test_both_file_names_is_an_error(tmp_path: Path) -> None:
    assert find_scenario_file(tmp_path) is None
    write(tmp_path, "scenarios.json", "[]")
    assert find_scenario_file(tmp_path) == tmp_path / "scenarios.json"
    write(tmp_path, "scenarios.yml", "[]")
    with pytest.raises(ScenarioFileError, match="both scenarios.yml and scenarios.json exist"):
        find_scenario_file(tmp_path)


def test_ids_are_readable_and_unique(tmp_path: Path) -> None:
    file = write(tmp_path, "scenarios.yml", """
        - { name: a, call: { expect: success } }
        - { name: a, interpret: { expect: success } }
        - { name: a, call: { expect: failure } }
        - { call: { expect: failure } }
        - { validate: { expect: success } }
        - { name: 'x::y', call: { expect: success } }
        - { call: { expect: failure } }
    """)
    assert scenario_ids(load_scenarios(file)) == [
        "call[a]", "interpret[a]", "call[a (2)]", "call[2]", "validate[0]", "call[x: y]", "call[4]"]


def test_github_auth_scenarios_are_skipped(tmp_path: Path) -> None:
    file = write(tmp_path, "scenarios.json", '[{"call": {"authAddGithub": true, "expect": "success", "scope": {}}}]')
    assert "GitHub credentials" in load_scenarios(file)[0].skip


def params(**types: str) -> dict[str, Param]:
    return {name: Param(name, ValueType(kind)) for name, kind in types.items()}


def test_scope_values_typed_or_plain(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    file = write(tmp_path, "scenarios.yml", """
        - call:
            expect: success
            scope:
              typed: { number: 3 }
              plain: 3
              text: "3"
              src: src
              obj: { string: x }
              objTyped: { object: { string: x } }
              list: [1, a]
    """)
    scenario = load_scenarios(file)[0]
    args = scope_args(scenario, params(src="dir", obj="object", objTyped="object", text="string"))
    assert args == {
        "typed": Value.number(3), "plain": Value.number(3), "text": Value.string("3"),
        "src": Value.dir(tmp_path / "src"), "obj": Value.object({"string": "x"}),
        "objTyped": Value.object({"string": "x"}), "list": Value.array([1, "a"]),
    }


def test_a_malformed_scope_value_names_its_line(tmp_path: Path) -> None:
    file = write(tmp_path, "scenarios.yml", """
        - interpret:
            expect: failure
            scope:
              string:
                string:
    """)
    with pytest.raises(ScopeError) as raised:
        scope_args(load_scenarios(file)[0], {})
    assert str(raised.value) == f"{file}:5:9: scope.string.string: expected a JSON string, got null"


def test_outputs_match_partially(tmp_path: Path) -> None:
    (tmp_path / "out.txt").write_text("hello\n")
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "a.txt").write_text("A")
    (tmp_path / "dir" / "sub" / "b.txt").write_text("B")
    values = {"s": Value.string("x"), "n": Value.number(2), "o": Value.object({"a": 1, "b": {"c": [1, 2]}}),
              "f": Value.file(tmp_path / "out.txt"), "d": Value.dir(tmp_path / "dir")}
    declared = params(s="string", o="object")
    assert output_mismatches({"s": "x", "n": 2.0, "o": {"b": {"c": [1, 2]}}, "f": "hello\n",
                              "d": {"sub": {"b.txt": "B"}}}, values, declared) == []
    assert output_mismatches({"s": {"string": "x"}, "o": {"object": {"a": 1}}}, values, declared) == []
    assert output_mismatches({"s": "y", "n": "2", "o": {"a": 2, "z": 1}, "missing": 1, "f": "bye"}, values,
                             declared) == [
        "s: expected 'y', got 'x'",
        "n: expected '2', got 2",
        "o.a: expected 2, got 1",
        "o: key 'z' is missing (has 'a', 'b')",
        "output 'missing' was not produced (outputs: d, f, n, o, s)",
        "f: expected 'bye', got 'hello\\n'",
    ]


def test_call_limits_load_as_limits(tmp_path: Path) -> None:
    file = write(tmp_path, "scenarios.yml", """
        - call:
            expect: failure
            limits: { memory: 64m, cpus: 0.5, pids: 64, network: none }
        - call: { expect: success }
    """)
    limited, free = load_scenarios(file)
    assert limited.limits == Limits(memory_bytes=64 * 1024**2, cpus=0.5, pids=64, network=Network.NONE)
    assert not free.limits


def test_a_bad_limit_is_a_file_error_at_its_line(tmp_path: Path) -> None:
    file = write(tmp_path, "scenarios.yml", """
        - call:
            expect: failure
            limits:
              memory: 5m
              network: host
        - call:
            expect: success
            limits: { cpus: lots, swap: 1g }
    """)
    with pytest.raises(ScenarioFileError) as raised:
        load_scenarios(file)
    assert str(raised.value).splitlines()[1:] == [
        f"{file}:5:16: [0].call.limits.network: 'host' is not one of ['op', 'none']",
        f"{file}:8:27: [1].call.limits.swap: unknown key 'swap'; expected one of 'memory', 'cpus', 'pids', 'network'",
    ]
    file.write_text("- call: { expect: failure, limits: { memory: 5m } }\n")
    with pytest.raises(ScenarioFileError, match=r":1:46: \[0\].call.limits.memory: '5m' is below the smallest "
                                                r"memory limit the engine accepts \(6m\)"):
        load_scenarios(file)


def test_container_expectations_check_exit_reasons_and_resource_figures(tmp_path: Path) -> None:
    from pytest_opspec.executor.result import ContainerRun
    from pytest_opspec.model.scenarios import container_mismatches
    from pytest_opspec.runtime.exits import ContainerExit, ExitReason

    measured = ContainerRun("c1", "alpine", "/pkg", (), exit_code=137, ended=ContainerExit(
        ExitReason.OOM, 137, peak_memory_bytes=64 * 1024**2, cpu_seconds=1.5, duration_seconds=2.0))
    unmeasured = ContainerRun("c2", "alpine", "/pkg", (), exit_code=0)
    assert container_mismatches([{"exit_reason": "oom", "max_memory": "64m", "max_cpu_seconds": 2}], [measured]) == []
    assert container_mismatches([{"exit_reason": "exited", "max_memory": "32m", "max_duration_seconds": 1}],
                                [measured]) == [
        "containers[0].exit_reason: expected 'exited', got 'oom'",
        "containers[0].max_memory: expected at most 32 MiB, used 64 MiB",
        "containers[0].max_duration_seconds: expected at most 1.00 s, used 2.00 s",
    ]
    assert container_mismatches([{"max_memory": "1g"}], [unmeasured])[0].startswith(
        "containers[0].max_memory: not measured")


def test_a_bad_figure_expectation_is_a_file_error(tmp_path: Path) -> None:
    file = write(tmp_path, "scenarios.yml", """
        - call:
            expect: success
            containers: [{ max_memory: lots }, { max_cpu_seconds: -1 }]
    """)
    with pytest.raises(ScenarioFileError) as raised:
        load_scenarios(file)
    text = str(raised.value)
    assert "[0].call.containers[0].max_memory: 'lots' is not a memory size" in text
    assert "[0].call.containers[1].max_cpu_seconds: -1 is less than the minimum of 0" in text
