"""`pytest --opspec PATH...`: one validation item per op package, with readable failures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.support import EXAMPLES

GOOD = "name: good\nrun:\n  container:\n    image: {ref: alpine}\n"
BAD = "name: bad\nrun:\n  serial:\n    - container:\n        image: {reff: alpine}\n"


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def assert_lines(result: pytest.RunResult, expected: list[str]) -> None:
    """Each expected line appears verbatim, in this order (no glob: json paths contain brackets)."""
    lines = result.stdout.lines
    position = 0
    for line in expected:
        assert line in lines[position:], f"{line!r} not found after line {position} in:\n" + "\n".join(lines)
        position = lines.index(line, position) + 1


@pytest.fixture
def tree(pytester: pytest.Pytester) -> Path:
    root = pytester.path
    write(root, "pkgs/good/op.yml", GOOD)
    write(root, "pkgs/.opspec/build/op.yml", BAD)
    write(root, "pkgs/good/test_helper.py", "def test_ordinary():\n    assert True\n")
    write(root, "tests/test_elsewhere.py", "def test_elsewhere():\n    assert True\n")
    return root


def test_items_are_functions_named_by_package(pytester: pytest.Pytester, tree: Path) -> None:
    items, _ = pytester.inline_genitems("--opspec", "pkgs")
    assert [item.nodeid for item in items] == ["pkgs/.opspec/build::validate", "pkgs/good::validate",
                                               "pkgs/good/test_helper.py::test_ordinary"]
    assert all(type(item).__mro__[1] is pytest.Function or isinstance(item, pytest.Function) for item in items)
    assert items[0].name == "validate" and isinstance(items[0], pytest.Function)


def test_failure_shows_error_lines_and_snippet(pytester: pytest.Pytester, tree: Path) -> None:
    result = pytester.runpytest("--opspec", "pkgs")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2, failed=1)
    assert_lines(result, [
        "pkgs/.opspec/build/op.yml: invalid (2 errors, 0 warnings)",
        "pkgs/.opspec/build/op.yml:5:16: run.serial[0].container.image: 'ref' is a required property",
        "  3 |   serial:",
        "  4 |     - container:",
        "> 5 |         image: {reff: alpine}",
        "    |                ^",
        "pkgs/.opspec/build/op.yml:5:17: run.serial[0].container.image.reff: unknown key 'reff' (did you mean 'ref'?); "
        "expected one of 'ref' or 'pullCreds'",
        "    |                 ^",
    ])
    result.stdout.fnmatch_lines(["FAILED pkgs/.opspec/build::validate - *"])
    assert "Traceback" not in result.stdout.str()


def test_valid_packages_pass(pytester: pytest.Pytester) -> None:
    write(pytester.path, "ops/a/op.yml", GOOD)
    result = pytester.runpytest("--opspec", "ops", "-v")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["ops/a::validate PASSED*"])


def test_cli_paths_replace_the_default_but_not_explicit_args(pytester: pytest.Pytester, tree: Path) -> None:
    items, _ = pytester.inline_genitems("--opspec", "pkgs/good")
    assert [item.nodeid for item in items] == ["pkgs/good::validate", "pkgs/good/test_helper.py::test_ordinary"]
    items, _ = pytester.inline_genitems("tests", "--opspec", "pkgs/good")
    assert [item.nodeid for item in items] == ["tests/test_elsewhere.py::test_elsewhere", "pkgs/good::validate",
                                               "pkgs/good/test_helper.py::test_ordinary"]


def test_without_opspec_op_packages_are_not_items(pytester: pytest.Pytester, tree: Path) -> None:
    items, _ = pytester.inline_genitems()
    assert [item.nodeid for item in items] == ["pkgs/good/test_helper.py::test_ordinary",
                                               "tests/test_elsewhere.py::test_elsewhere"]


def test_precedence_cli_over_env_over_ini(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("from_cli", "from_env", "from_ini"):
        write(pytester.path, f"{name}/p/op.yml", GOOD)
    pytester.makeini("[pytest]\nopspec_paths = from_ini\n")

    def collected(*args: str) -> list[str]:
        items, _ = pytester.inline_genitems(*args)
        return [item.nodeid for item in items]

    assert collected() == ["from_ini/p::validate"]
    monkeypatch.setenv("OPSPEC_PATHS", "from_env")
    assert collected() == ["from_env/p::validate"]
    assert collected("--opspec", "from_cli") == ["from_cli/p::validate"]


def test_help_names_every_source(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--opspec=PATH*", "*OPSPEC_PATHS*"])
    text = " ".join(result.stdout.str().split())
    assert "precedence: --opspec > env OPSPEC_PATHS > ini opspec_paths" in text
    assert "opspec_paths" in text


def test_warnings_are_reported_but_do_not_fail(pytester: pytest.Pytester) -> None:
    write(pytester.path, "ops/norun/op.yml", "name: norun\n")
    result = pytester.runpytest("--opspec", "ops")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*warnings summary*", "*ops/norun/op.yml:1: OpspecWarning: "
                                 "ops/norun/op.yml:1:1: $: warning: the op has no 'run'*"])
    assert pytester.runpytest("--opspec", "ops", "-W", "error::pytest_opspec.plugin.collect.OpspecWarning").ret == 1


def test_missing_path_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--opspec", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--opspec: nope: no such file or directory*"])


def test_invalid_yaml_and_binary_files_fail_cleanly(pytester: pytest.Pytester) -> None:
    write(pytester.path, "ops/yaml/op.yml", "name: x\nrun: [\n")
    (pytester.path / "ops" / "bin").mkdir()
    (pytester.path / "ops" / "bin" / "op.yml").write_bytes(b"\x00\x01\x02")
    result = pytester.runpytest("--opspec", "ops")
    result.assert_outcomes(failed=2)
    assert "ops/bin/op.yml:1:1: $: not a text file: control character '\\x00'" in result.stdout.lines
    result.stdout.fnmatch_lines(["ops/yaml/op.yml:3:1: $: invalid YAML: *"])
    assert "Traceback" not in result.stdout.str()


def test_examples_pass(pytester: pytest.Pytester) -> None:
    # The examples' ini (the repository's pyproject.toml) maps their images to the local test image.
    result = pytester.runpytest("--opspec", str(EXAMPLES), "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] >= 20 and set(outcomes) == {"passed"}
