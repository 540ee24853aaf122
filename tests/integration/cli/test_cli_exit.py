"""The `opspec` program (``entry``) exits without the interpreter's teardown: its exit code and every byte it
wrote must still arrive, also through pipes and when the output is large."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import DATA, REPO

OPSPEC = [sys.executable, "-m", "pytest_opspec.cli"]


def opspec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OPSPEC, *args], capture_output=True, text=True, timeout=120, check=False)


def test_exit_codes_and_all_output_arrive_through_pipes() -> None:
    packages = sorted(path for path in (DATA / "pkgs").iterdir() if path.is_dir())
    result = opspec("validate", "--format", "json", *map(str, packages))
    report = json.loads(result.stdout)  # complete: it parses
    assert result.returncode == 1  # the invalid ones
    assert len(report["packages"]) == report["summary"]["packages"] >= len(packages)  # nested ones too

    valid = opspec("validate", str(DATA / "pkgs" / "valid-minimal"))
    assert valid.returncode == 0 and "valid" in valid.stdout


def test_usage_errors_and_version_keep_their_exit_codes() -> None:
    assert opspec("run").returncode == 2
    version = opspec("--version")
    assert version.returncode == 0 and "opspec" in version.stdout
    listed = opspec("validate", str(REPO / "examples"))
    assert listed.returncode == 0 and listed.stdout.count("\n") >= 4
