"""A secret runs through every artifact pytest-opspec writes, and none shows it: terminal, failure
reports, `interpret` and "outputs differ" messages, JUnit XML, snapshot files and snapshot diffs, the
`op_snapshot` fixture, `opspec run` (text and --format json). Values of secret inputs and of secret
outputs (also one the container made itself) become ``<secret:NAME>``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .test_plugin_runs import INI, write

TOKEN = "T0PS3CR3T-hunter2-XYZ"
MINTED = "M1NT3D-S3CR3T-VALUE"

VAULT = f"""
name: vault
inputs:
  token: {{ string: {{ isSecret: true }} }}
  pin: {{ number: {{ isSecret: true, default: 987654321 }} }}
outputs:
  said: {{ string: {{}} }}
  echoed: {{ string: {{ isSecret: true }} }}
  minted: {{ file: {{ isSecret: true }} }}
run:
  container:
    image: {{ ref: 'alpine:3.19' }}
    cmd:
      - sh
      - -c
      - |
        echo "said=token is $token"
        echo "echoed=$token"
        echo "pin $pin"
        echo "leaking $token to stderr" >&2
        echo {MINTED} > /minted
    envVars: {{ token: , pin: }}
    stdOut: {{ 'said=': said, 'echoed=': echoed }}
    files: {{ /minted: $(minted) }}
"""

SCENARIOS = f"""
- name: snapshot
  call: {{ expect: success, scope: {{ token: {TOKEN} }}, snapshot: true }}
- name: outputs differ
  call: {{ expect: success, scope: {{ token: {TOKEN} }}, outputs: {{ said: nope, minted: nope }} }}
- name: failure report
  call: {{ expect: failure, scope: {{ token: {TOKEN} }} }}
- name: interpret binds
  interpret: {{ expect: failure, scope: {{ token: {TOKEN} }} }}
"""

# Tracebacks show test source: the secret comes from the environment, as it would in CI.
PYTHON_TEST = """
import os

def test_op_snapshot(op_runner, op_snapshot):
    assert op_runner.run("vault", {"token": os.environ["VAULT_TOKEN"]}) == op_snapshot

def test_result_in_an_assertion(op_runner):
    result = op_runner.run("vault", {"token": os.environ["VAULT_TOKEN"]})
    assert not result.succeeded, result  # pytest shows the result: masked
"""

# The files that hold secrets because the user wrote them there.
WRITTEN_BY_THE_USER = {"scenarios.yml", "op.yml"}


def test_secrets_appear_in_no_artifact(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", TOKEN)
    pytester.makeini(INI)
    write(pytester.path, "ops/vault/op.yml", VAULT)
    write(pytester.path, "ops/vault/scenarios.yml", SCENARIOS)
    write(pytester.path, "ops/test_vault.py", PYTHON_TEST)
    outputs: list[str] = []

    def pytest_run(*args: str) -> pytest.RunResult:
        result = pytester.runpytest_subprocess("--opspec", "ops", "-p", "no:cacheprovider", "-rA", "-vv", *args)
        outputs.extend([result.stdout.str(), result.stderr.str()])
        return result

    # First run: snapshots are written; the scenarios that cannot hold fail with reports.
    first = pytest_run("--snapshot-update", "--junitxml", "first.xml")
    first.assert_outcomes(passed=3, failed=4)
    snapshots = list(pytester.path.rglob("__snapshots__/**/*.json"))
    assert len(snapshots) == 2
    stored = (pytester.path / "ops/vault/__snapshots__/vault/call[snapshot].json").read_text()
    assert "token is <secret:token>" in stored and '"echoed": {"string": "<secret:token>"}' in stored
    assert '"minted": {"file": "<secret:minted>"}' in stored and "pin <secret:pin>" in stored
    assert "token = <secret:token>" in first.stdout.str()

    # Second run: the snapshots differ (made so here), and the diff is shown.
    for snapshot in snapshots:
        snapshot.write_text(snapshot.read_text().replace("token is", "token was"))
    second = pytest_run("--junitxml", "second.xml")
    second.assert_outcomes(passed=1, failed=6)
    second.stdout.fnmatch_lines(["*the run differs from its snapshot*", "*token is <secret:token>*"])

    env = {**os.environ, "OPSPEC_IMAGE_MAP": INI.split("= ", 1)[1].strip()}
    for output_format in ("human", "json"):
        done = subprocess.run([sys.executable, "-m", "pytest_opspec.cli", "run", "ops/vault", "-a", f"token={TOKEN}",
                               "--format", output_format], cwd=pytester.path, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.extend([done.stdout, done.stderr])
        assert "<secret:echoed>" in done.stdout, done.stdout

    for secret in (TOKEN, MINTED, "987654321"):
        for text in outputs:
            assert secret not in text
        for path in pytester.path.rglob("*"):
            if path.is_file() and path.name not in WRITTEN_BY_THE_USER:
                assert secret.encode() not in path.read_bytes(), f"{secret} is in {path}"
