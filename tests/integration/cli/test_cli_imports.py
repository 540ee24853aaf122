"""`opspec` imports only what the command being run needs (each case in a fresh process, as installed): the
help imports no command module, and `opspec run`, up to its first call to the engine, none of what validate,
pkg, node or conformance need nor the standard modules it was trimmed of (tests/e2e/cli/test_run.py checks a
whole run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_opspec.cli import COMMANDS

from tests.support.imports import NOT_FOR_A_BARE_RUN, among, run_opspec, write_bare_op

COMMAND_MODULES = tuple(f"pytest_opspec.cli.{command.module}" for command in COMMANDS.values())


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
    write_bare_op(tmp_path, "opspec-test/busybox:1")
    # No engine answers there: the run stops at its first call to the engine, everything before it done.
    env = {name: value for name, value in os.environ.items()
           if name == "OPSPEC_OP_CACHE" or not name.startswith(("OPSPEC_", "DOCKER_"))}
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine.sock"
    run_opspec("run", "bare", env=env, cwd=tmp_path)  # a first run puts op.yml in the op cache (PyYAML: no more)
    code, output, loaded = run_opspec("run", "bare", env=env, cwd=tmp_path)
    assert code == 1 and "no Docker engine answers" in output
    assert "pytest_opspec.runtime.docker" in loaded and "pytest_opspec.executor.executor" in loaded
    assert among(loaded, NOT_FOR_A_BARE_RUN) == []

