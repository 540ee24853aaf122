"""The `opspec` program (``entry``) exits without the interpreter's teardown: its exit code and every byte it
wrote must still arrive, also through pipes and when the output is large."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("engine_env", [
    {"DOCKER_HOST": "foo://bar"},
    {"DOCKER_HOST": "tcp://127.0.0.1:9", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/nonexistent"},
    {"DOCKER_HOST": "unix:///nonexistent/engine.sock"},
])
def test_an_engine_that_cannot_be_reached_is_one_message_not_a_traceback(
        engine_env: dict[str, str], tmp_path: Path) -> None:
    """`opspec run` asks the engine early, on a thread: what goes wrong there is reported as before, once."""
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "op.yml").write_text("name: bare\nrun:\n  container:\n    image: { ref: x }\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}, **engine_env}
    done = subprocess.run([*OPSPEC, "run", "bare"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("opspec: ") == 1 and engine_env["DOCKER_HOST"] in done.stderr
    help_text = subprocess.run([*OPSPEC, "run", "--help"], capture_output=True, text=True, timeout=60, env=env)
    assert help_text.returncode == 0 and help_text.stderr == ""
