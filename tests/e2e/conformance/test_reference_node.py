"""The suite against the reference node, opctl 0.1.21, when a binary of it is at hand: it must flag the
reference's known deviations (SEMANTICS §9, §10.16-17) and end in no ERROR. opctl is never built or
fetched here: set OPSPEC_OPCTL_BINARY to one built as shared/spec/opctl-build.md describes, or the test
skips. opctl serves on 0.0.0.0:42224 (hard-coded); the suite talks to it on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from pytest_opspec.conformance.runner import Outcome

from .conftest import describe, outcomes, run_suite

OPCTL_PORT = 42224  # hard-coded in opctl

# What the reference does wrong, by check (SEMANTICS §9 and §10): every one must be flagged.
FLAGGED = {
    "ops.kills.kill-running",  # 201, not 204
    "ops.kills.op-run-id",  # ignores opRunId, answers 201
    "pkgs.contents.list-keys",  # Path, Size, Mode
    "pkgs.contents.head-file",  # 405
    "pkgs.contents.missing-file",  # 500
    "pkgs.contents.unknown-pkg",  # 500
    "events.stream.bad-since",  # upgrades, then closes
    "events.stream.since-offset",  # compares since as text
    "pkgs.contents.path-traversal",  # serves ../
    "events.stream.no-duplicates",  # events published during the replay, twice
    "events.stream.answers-ping",  # no pong
    "ops.starts.unresolvable-pkg",  # 201 for a missing absolute path
}


@pytest.fixture
def opctl(tmp_path: Path) -> Iterator[str]:
    binary = os.environ.get("OPSPEC_OPCTL_BINARY", "")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("no reference node: set OPSPEC_OPCTL_BINARY to an opctl 0.1.21 binary built from source as "
                    "shared/spec/opctl-build.md describes (docs/compatibility.md, 'Conformance suite against opctl')")
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", OPCTL_PORT)) == 0:
            pytest.skip(f"port {OPCTL_PORT} (opctl's, hard-coded) is in use")
    home = tmp_path / "home"
    home.mkdir()
    process = subprocess.Popen([binary, "node", "create"], env={**os.environ, "HOME": str(home)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", OPCTL_PORT)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"opctl node create did not listen on {OPCTL_PORT} (exit {process.poll()})")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{OPCTL_PORT}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_the_suite_flags_every_known_deviation_of_the_reference_and_errs_nowhere(opctl: str) -> None:
    run = run_suite(opctl)
    assert run.setup_error is None
    assert outcomes(run, Outcome.ERROR) == set(), describe(run)
    assert FLAGGED <= outcomes(run, Outcome.FAIL), describe(run)
