"""The command line sets up only the command being run (setting up another may import a lot)."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from pytest_opspec.cli import build_parser, main

PROBE = """
import sys
from pytest_opspec.cli import main
try:
    main([{argv}])
except SystemExit:
    pass
print(sorted(name for name in ("docker", "pytest_opspec.conformance.config") if name in sys.modules))
"""


def test_opspec_run_does_not_set_up_the_conformance_command() -> None:
    probe = subprocess.run([sys.executable, "-c", PROBE.format(argv="'run', '--help'")], capture_output=True,
                           text=True, timeout=60, check=True)
    assert "--image-map" in probe.stdout
    assert probe.stdout.strip().splitlines()[-1] == "[]"


def test_each_command_still_gets_its_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["conformance", "--help"])
    assert "--node-image" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        main(["run"])
    assert usage.value.code == 2


@pytest.mark.parametrize("columns", ["50", "120"])
def test_help_is_argparse_own_at_any_terminal_width(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cli's formatter only saves argparse looking the width up; the help it prints is argparse's."""
    monkeypatch.setenv("COLUMNS", columns)
    run_parser = build_parser("run").parse_args(["run", "pkg"]).parser
    ours = run_parser.format_help()
    run_parser.formatter_class = argparse.HelpFormatter
    assert ours == run_parser.format_help()
    assert max(len(line) for line in ours.splitlines()) <= int(columns)
