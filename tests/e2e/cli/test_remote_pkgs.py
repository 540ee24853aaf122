"""`opspec run|pkg pull|pkg lock|validate` with remote refs, as subprocesses, against the real git server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.support.gitserver import ECHO_OP, GitServer
from tests.support import IMAGE_MAP, write_package

GREET = "github.com/pytest-opspec/greet#1.0.0"
ECHO = "github.com/pytest-opspec/echo#1.0.0"
OPSPEC = [sys.executable, "-m", "pytest_opspec.cli"]


def opspec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPSPEC_IMAGE_MAP": ",".join(f"{k}={v}" for k, v in IMAGE_MAP.items()), "NO_COLOR": "1"}
    return subprocess.run([*OPSPEC, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=180)


def test_run_a_remote_root_ref_prints_only_json_with_provenance(git_env: GitServer, tmp_path: Path) -> None:
    done = opspec("run", GREET, "-a", "who=CLI", "--format", "json", "--pkg-cache", str(tmp_path / "c"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["outputs"] == {"greeting": {"string": "hello CLI"}}
    packages = {package["ref"]: package for package in report["packages"]}
    assert packages[ECHO]["commit"] == git_env.commit_of("github.com/pytest-opspec/echo", "1.0.0")
    assert set(packages) == {GREET, ECHO}


def test_run_offline_names_the_ref_and_pkg_pull_then_pull_makes_it_work(git_env: GitServer, tmp_path: Path) -> None:
    cache = str(tmp_path / "c")
    offline = opspec("run", ECHO, "--offline", "--pkg-cache", cache, cwd=tmp_path)
    assert offline.returncode == 1 and ECHO in offline.stderr and f"opspec pkg pull {ECHO}" in offline.stderr
    pulled = opspec("pkg", "pull", GREET, ECHO, "--pkg-cache", cache, cwd=tmp_path)
    assert pulled.returncode == 0, pulled.stderr
    assert f"{ECHO} {git_env.commit_of('github.com/pytest-opspec/echo', '1.0.0')}" in pulled.stdout.splitlines()
    requests = sum(git_env.requests.values())
    again = opspec("run", GREET, "--offline", "--pkg-cache", cache, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert sum(git_env.requests.values()) == requests


def test_run_with_a_pkg_map(git_env: GitServer, tmp_path: Path) -> None:
    stub = write_package(tmp_path, "stub", ECHO_OP.replace('echo "said=$(message)"', 'echo "said=mapped"'))
    done = opspec("run", GREET, "--pkg-map", f"github.com/pytest-opspec/echo={stub}", "--pkg-cache",
                  str(tmp_path / "c"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "greeting: mapped" in done.stdout


def test_pkg_pull_bad_refs_are_usage_errors_naming_the_ref(git_env: GitServer, tmp_path: Path) -> None:
    done = opspec("pkg", "pull", "https://github.com/x/y#1", "--pkg-cache", str(tmp_path / "c"), cwd=tmp_path)
    assert done.returncode == 2 and "https://github.com/x/y#1" in done.stderr and "Traceback" not in done.stderr


def test_pkg_lock_pins_transitive_remote_refs_and_a_moved_tag_then_fails(git_env: GitServer, tmp_path: Path) -> None:
    name = f"github.com/pytest-opspec/lock-{uuid.uuid4().hex[:8]}"
    git_env.repo(name, {"op.yml": ECHO_OP}, {"1.0.0": True})
    project = tmp_path / "project"
    write_package(project / ".opspec", "caller", f"""\
        name: caller
        run:
          serial:
            - op: {{ pkg: {{ ref: '{GREET}' }} }}
            - op: {{ pkg: {{ ref: '{name}#1.0.0' }} }}
        """)
    cache = str(tmp_path / "c")
    locked = opspec("pkg", "lock", str(project), "--pkg-cache", cache, cwd=tmp_path)
    assert locked.returncode == 0, locked.stderr
    lock = json.loads((project / "opspec.lock").read_text())
    assert set(lock["packages"]) == {GREET, ECHO, f"{name}#1.0.0"}  # echo only through greet: transitive
    pinned = git_env.commit_of(name, "1.0.0")
    assert lock["packages"][f"{name}#1.0.0"]["commit"] == pinned  # the peeled commit of an annotated tag
    moved = git_env.move_tag(name, "1.0.0", {"op.yml": ECHO_OP.replace("remote", "moved")})
    done = opspec("run", str(project / ".opspec" / "caller"), "--pkg-cache", str(tmp_path / "fresh"), cwd=tmp_path)
    assert done.returncode == 1 and pinned in done.stderr + done.stdout and moved in done.stderr + done.stdout
