"""Static validation of calls to remote packages: checked when available offline, else "not checked"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gitserver import GitServer
from tests.support import write_package

GROUP = "github.com/opspec-pkgs/azure.group.create#2.0.0"  # from the corpus
OPSPEC = [sys.executable, "-m", "pytest_opspec.cli"]


def opspec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OPSPEC, *args], capture_output=True, text=True, cwd=cwd, env=dict(os.environ),
                          timeout=120)


@pytest.fixture
def caller(git_env: GitServer, tmp_path: Path, shared: Path) -> Path:
    return write_package(tmp_path, "caller", f"""\
        name: caller
        run:
          op:
            pkg: {{ ref: '{GROUP}' }}
            inputs: {{ bogus: x }}
        """)


def test_an_uncached_remote_call_is_not_checked_and_not_fetched(git_env: GitServer, caller: Path,
                                                                tmp_path: Path) -> None:
    before = sum(git_env.requests.values())
    done = opspec("validate", str(caller), "--pkg-cache", str(tmp_path / "c"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not checked" in done.stdout and GROUP in done.stdout
    assert sum(git_env.requests.values()) == before


def test_fetch_then_the_call_is_checked_like_a_local_one(git_env: GitServer, caller: Path, tmp_path: Path) -> None:
    done = opspec("validate", str(caller), "--fetch", "--pkg-cache", str(tmp_path / "c"), cwd=tmp_path)
    assert done.returncode == 1
    assert f"op {GROUP!r} declares no input 'bogus'" in done.stdout
    cached = opspec("validate", str(caller), "--pkg-cache", str(tmp_path / "c"), "--offline", cwd=tmp_path)
    assert cached.returncode == 1 and "declares no input 'bogus'" in cached.stdout


def test_a_corpus_package_with_a_remote_dependency_validates_deeply_once_pulled(git_env: GitServer, tmp_path: Path,
                                                                              shared: Path) -> None:
    acs = "github.com/opspec-pkgs/azure.acs.create#1.0.0"
    cache = str(tmp_path / "c")
    assert opspec("pkg", "pull", acs, GROUP, "--pkg-cache", cache, cwd=tmp_path).returncode == 0
    root = Path(cache) / "github.com" / "opspec-pkgs" / "azure.acs.create#1.0.0"
    done = opspec("validate", str(root), "--pkg-cache", cache, cwd=tmp_path)
    assert "not checked" not in done.stdout, done.stdout
