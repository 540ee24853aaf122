"""`opspec validate`: output formats and exit codes (0 valid, 1 invalid, 2 usage)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_opspec import __version__
from pytest_opspec.cli import COMMANDS, main

from tests.support import EXAMPLES


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_packages_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(EXAMPLES))
    assert code == 0 and err == ""
    assert out.splitlines()[-1] == "4 packages: 4 valid, 0 invalid (0 errors, 0 warnings)"
    assert f"{EXAMPLES}/hello/op.yml: valid (0 errors, 0 warnings)" in out


def test_invalid_package_exits_1_with_every_problem(make_pkg, capsys: pytest.CaptureFixture[str]) -> None:
    good = make_pkg("good", "name: good\nrun: {container: {image: {ref: a}}}\n")
    bad = make_pkg("bad", "name: bad\nrun:\n  serial:\n    - container:\n        image: {reff: a}\n")
    code, out, _ = run(capsys, "validate", str(good), str(bad))
    assert code == 1
    assert out.splitlines() == [
        f"{bad}/op.yml:5:16: run.serial[0].container.image: 'ref' is a required property",
        f"{bad}/op.yml:5:17: run.serial[0].container.image.reff: unknown key 'reff' (did you mean 'ref'?); "
        "expected one of 'ref' or 'pullCreds'",
        f"{bad}/op.yml: invalid (2 errors, 0 warnings)",
        f"{good}/op.yml: valid (0 errors, 0 warnings)",
        "2 packages: 1 valid, 1 invalid (2 errors, 0 warnings)",
    ]


def test_json_format(make_pkg, capsys: pytest.CaptureFixture[str]) -> None:
    bad = make_pkg("bad", "name: 5\nrun: {container: {image: {ref: a}}}\n")
    code, out, _ = run(capsys, "validate", "--format", "json", str(bad))
    document = json.loads(out)
    assert code == 1 and document["valid"] is False
    assert document["summary"] == {"packages": 1, "valid": 0, "invalid": 1, "errors": 1, "warnings": 0}
    (package,) = document["packages"]
    assert package["package"] == str(bad) and package["valid"] is False
    assert package["problems"] == [{"file": f"{bad}/op.yml", "line": 1, "column": 7, "path": "name",
                                    "pointer": "/name", "severity": "error", "check": "schema",
                                    "message": "expected string, got number 5"}]


def test_quiet_hides_valid_packages_and_warnings(make_pkg, capsys: pytest.CaptureFixture[str]) -> None:
    norun = make_pkg("norun", "name: x\n")
    code, out, _ = run(capsys, "validate", "-q", str(norun))
    assert code == 0 and out == "1 package: 1 valid, 0 invalid (0 errors, 1 warnings)\n"


@pytest.mark.parametrize("argv", [[], ["validate"], ["nope"], ["validate", "--format", "xml", "."],
                                  ["validate", "/no/such/path"]])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("usage: opspec") and "Traceback" not in err


def test_no_packages_found_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(tmp_path))
    assert code == 1 and out == f"no op packages (directories with an op.yml) found in {tmp_path}\n"


def test_version_and_registry(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out == f"opspec (pytest-opspec) {__version__}, opspec spec 0.1.5\n"
    assert "validate" in COMMANDS


def test_console_script_never_prints_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "op.yml").write_bytes(b"\x00\x01binary")
    result = subprocess.run([sys.executable, "-m", "pytest_opspec.cli", "validate", str(tmp_path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "not a text file" in result.stdout


def test_scenario_files_are_validated_too(make_pkg, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = make_pkg("checked", "name: checked\nrun: {container: {image: {ref: a}}}\n",
                   **{"scenarios.yml": "- name: x\n  call: { expect: success, outptus: {} }\n"})
    code, out, _ = run(capsys, "validate", str(pkg))
    assert code == 1
    assert (f"{pkg}/scenarios.yml:2:28: [0].call.outptus: unknown key 'outptus' (did you mean 'outputs'?); expected one of" in out), out
