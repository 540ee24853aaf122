"""The one option table: precedence flag > OPSPEC_* env > ini > default, one parser per option, and one
error naming the source of a bad value, the same for pytest and for every `opspec` command."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_opspec.options import (CONFORMANCE_OPTIONS, IMAGE_MAP, KEEP_CONTAINERS, OPTIONS, PATHS, PULL,
                                   PULL_POLICIES, TIMEOUT, OptionError, Source, add_command_options,
                                   read_command_options, resolve)
from pytest_opspec.runtime.base import PullPolicy

from tests.support import EXAMPLES


def test_the_flag_wins_over_env_which_wins_over_ini() -> None:
    environ = {"OPSPEC_TIMEOUT": "20"}
    assert resolve(TIMEOUT, flag="10", ini="30", environ=environ) == (10.0, Source.CLI)
    assert resolve(TIMEOUT, ini="30", environ=environ) == (20.0, Source.ENV)
    assert resolve(TIMEOUT, ini="30", environ={"OPSPEC_TIMEOUT": "  "}) == (30.0, Source.INI)
    assert resolve(TIMEOUT, environ={}) == (600.0, Source.DEFAULT)


def test_each_kind_reads_its_forms() -> None:
    assert resolve(KEEP_CONTAINERS, flag=True, environ={"OPSPEC_KEEP_CONTAINERS": "0"})[0] is True
    assert resolve(KEEP_CONTAINERS, environ={"OPSPEC_KEEP_CONTAINERS": "On"})[0] is True
    assert resolve(KEEP_CONTAINERS, ini=False, environ={})[0] is False
    assert resolve(IMAGE_MAP, flag=["a=b", "c=d,e=f"], environ={})[0] == (("a", "b"), ("c", "d"), ("e", "f"))
    assert resolve(IMAGE_MAP, ini=["a=b", "c=d, e=f"], environ={})[0] == (("a", "b"), ("c", "d"), ("e", "f"))
    assert resolve(PATHS, environ={"OPSPEC_PATHS": "a:b/c"})[0] == (Path("a"), Path("b/c"))


@pytest.mark.parametrize(("environ", "flag", "message"), [
    ({"OPSPEC_KEEP_CONTAINERS": "bogus"}, None, "env OPSPEC_KEEP_CONTAINERS: 'bogus' is not on/off"),
    ({"OPSPEC_PULL": "sometimes"}, None, "env OPSPEC_PULL: 'sometimes' is not one of always, missing, never"),
    ({}, ["alpine"], "--image-map: image map entry 'alpine' is not REF=LOCAL_REF"),
])
def test_a_bad_value_is_one_error_naming_its_source(environ: dict[str, str], flag: object, message: str) -> None:
    option = IMAGE_MAP if flag else KEEP_CONTAINERS if "KEEP" in next(iter(environ)) else PULL
    with pytest.raises(OptionError) as raised:
        resolve(option, flag=flag, flag_name="--image-map", environ=environ)
    assert str(raised.value).startswith(message)


def test_the_pull_choices_are_the_runtime_pull_policies() -> None:
    assert PULL_POLICIES == tuple(policy.value for policy in PullPolicy)


def test_every_option_has_a_unique_env_var_ini_key_and_flag() -> None:
    for table in (OPTIONS, CONFORMANCE_OPTIONS):
        for field in ("env", "ini", "pytest_flag"):
            names = [getattr(option, field) for option in table if getattr(option, field)]
            assert len(names) == len(set(names)), field
        assert all(option.env.startswith("OPSPEC_") for option in table)


def test_a_command_reads_its_options_with_its_own_defaults() -> None:
    parser = argparse.ArgumentParser()
    add_command_options(parser, "run")
    args = parser.parse_args(["--pull", "never", "--keep-containers"])
    values = read_command_options(args, "run", defaults={"timeout": None}, environ={"OPSPEC_IMAGE_MAP": "a=b"})
    assert values == {"image_map": (("a", "b"),), "pull": "never", "timeout": None, "keep_containers": True,
                      "tty": False, "memory": None, "cpus": None, "pids_limit": None, "network": None,
                      "pkg_cache": None, "offline": False, "pkg_map": ()}
    assert read_command_options(parser.parse_args([]), "run", environ={"OPSPEC_TIMEOUT": "5"})["timeout"] == 5.0


@pytest.mark.parametrize(("command", "variable", "value"), [
    (["run", str(EXAMPLES / "hello")], "OPSPEC_KEEP_CONTAINERS", "bogus"),
    (["run", str(EXAMPLES / "hello")], "OPSPEC_TIMEOUT", "0"),
    (["node"], "OPSPEC_NODE_MAX_LAG", "lots"),
    (["node"], "OPSPEC_NODE_LISTEN", "everywhere"),
    (["node"], "OPSPEC_MEMORY", "5m"),
    (["conformance"], "OPSPEC_CONFORMANCE_PROFILE", "9.9"),
])
def test_opspec_commands_exit_2_naming_the_bad_variable(command: list[str], variable: str, value: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest_opspec.cli", *command], capture_output=True, text=True,
                            timeout=60, env={"PATH": "/usr/bin:/bin", variable: value})
    assert result.returncode == 2, result.stderr
    assert f"error: env {variable}: " in result.stderr and value in result.stderr
    assert "Traceback" not in result.stderr
