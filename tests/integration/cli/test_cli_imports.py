"""`opspec` imports only what the command being run needs (each case in a fresh process, as installed): the
help imports no command module, and `opspec run`, up to its first call to the engine, none of what validate,
pkg, node or conformance need nor the standard modules it was trimmed of."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_opspec.cli import COMMANDS

COMMAND_MODULES = tuple(f"pytest_opspec.cli.{command.module}" for command in COMMANDS.values())

# What `opspec run` must not load: the other commands' code, the SDKs we do not use, and standard modules
# that only an error report, a number, a remote package or a constraint needs.
NOT_FOR_RUN = ("jsonschema", "docker", "aiohttp", "websockets", "requests", "sqlite3", "pytest_opspec.conformance",
               "pytest_opspec.node", "pytest_opspec.model.checks", "pytest_opspec.model.render",
               "pytest_opspec.model.scenarios", "pytest_opspec.pkgs.cache", "pytest_opspec.pkgs.locking",
               "difflib", "uuid", "hashlib", "decimal", "fractions", "shlex")

# Prints the exit code and every module loaded once the command returns.
PROBE = """
import sys
from pytest_opspec.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit_:
    code = exit_.code
print("exit:", code)
print("modules:", " ".join(sorted(sys.modules)))
"""


def run_opspec(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[int, str, set[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60,
                            env=env, cwd=cwd, check=False)
    *output, exit_line, modules_line = result.stdout.splitlines()
    assert exit_line.startswith("exit: ") and modules_line.startswith("modules: "), result.stdout + result.stderr
    return int(exit_line.removeprefix("exit: ")), "\n".join(output) + result.stderr, set(modules_line.split()[1:])


def among(loaded: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(name for name in loaded if any(name == p or name.startswith(p + ".") for p in prefixes))


def test_help_lists_every_command_and_imports_none() -> None:
    code, output, loaded = run_opspec("--help")
    assert code == 0 and all(name in output for name in COMMANDS)
    assert among(loaded, (*COMMAND_MODULES, "pytest_opspec.model", "pytest_opspec.pkgs", "pytest_opspec.executor",
                          "pytest_opspec.runtime", "yaml")) == []


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_command_imports_its_own_module_only(command: str) -> None:
    code, output, loaded = run_opspec(command, "--help")
    assert code == 0 and f"usage: opspec {command}" in output
    assert among(loaded, COMMAND_MODULES) == [f"pytest_opspec.cli.{COMMANDS[command].module}"]


def test_run_up_to_the_engine_imports_nothing_it_does_not_need(tmp_path: Path) -> None:
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "op.yml").write_text(
        "name: bare\nrun:\n  container:\n    image: { ref: 'opspec-test/busybox:1' }\n    cmd: ['true']\n")
    # No engine answers there: the run stops at its first call to the engine, everything before it done.
    env = {name: value for name, value in os.environ.items() if not name.startswith(("OPSPEC_", "DOCKER_"))}
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine.sock"
    code, output, loaded = run_opspec("run", "bare", env=env, cwd=tmp_path)
    assert code == 1 and "no Docker engine answers" in output
    assert "pytest_opspec.runtime.docker" in loaded and "pytest_opspec.executor.executor" in loaded
    assert among(loaded, NOT_FOR_RUN) == []

