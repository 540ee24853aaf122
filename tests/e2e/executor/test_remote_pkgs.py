"""Ops that call remote packages, run on the real Docker engine against the real git server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from pytest_opspec.backends.runtime import make_runtime
from pytest_opspec.executor.executor import Executor
from pytest_opspec.executor.runner import OpRunner
from pytest_opspec.pkgs.discover import LOCK_FILE
from pytest_opspec.pkgs.lockfile import LockEntry, LockFile
from pytest_opspec.pkgs.resolve import PackageResolver, PkgOptions

from tests.support.gitserver import ECHO_OP, PRIVATE_USERS, GitServer
from tests.support import IMAGE_MAP, write_package

GREET = "github.com/pytest-opspec/greet#1.0.0"
ECHO = "github.com/pytest-opspec/echo#1.0.0"


@pytest.fixture
def run_with(tmp_path: Path):
    executors: list[Executor] = []

    def run(ref: str | Path, args: dict | None = None, *, cwd: Path | None = None, **options) -> object:
        options.setdefault("cache_dir", tmp_path / "cache")
        executor = Executor(make_runtime(image_map=IMAGE_MAP), packages=PackageResolver(PkgOptions(**options)),
                            close_runtime=True)
        executors.append(executor)
        return OpRunner(executor, cwd=cwd or tmp_path, timeout=60).run(ref, args)

    yield run
    for executor in executors:
        executor.close()


def test_a_remote_root_ref_with_a_transitive_remote_call_runs(git_env: GitServer, run_with) -> None:
    result = run_with(GREET, {"who": "Ada"})
    assert result.succeeded, result.error
    assert result.outputs == {"greeting": "hello Ada"}
    provenance = {package.ref: package for package in result.packages}
    assert set(provenance) == {GREET, ECHO}
    assert provenance[ECHO].commit == git_env.commit_of("github.com/pytest-opspec/echo", "1.0.0")
    assert provenance[GREET].source == "git" and provenance[ECHO].digest.startswith("sha256:")


PRIVATE_CALLER = """\
name: private-caller
inputs:
  user: { string: {} }
  token: { string: { isSecret: true } }
outputs:
  said: { string: {} }
run:
  op:
    pkg:
      ref: github.com/acme/secret-echo#1.0.0
      pullCreds: { username: $(user), password: $(token) }
    outputs: { said: }
"""


def test_pull_credentials_from_the_callers_scope_fetch_a_private_package(git_env: GitServer, run_with,
                                                                         tmp_path: Path) -> None:
    caller = write_package(tmp_path, "caller", PRIVATE_CALLER)
    result = run_with(caller, {"user": "alice", "token": PRIVATE_USERS["alice"]})
    assert result.succeeded, result.error
    assert result.outputs["said"] == "hello from a private package"
    assert PRIVATE_USERS["alice"] not in json.dumps([event.to_json() for event in result.events])


@pytest.mark.parametrize("user, fragment", [("alice", "failed authentication"), ("mallory", "not authorized")])
def test_wrong_pull_credentials_fail_the_call_naming_the_ref_without_the_secret(git_env: GitServer, run_with,
                                                                                 tmp_path: Path, user: str,
                                                                                 fragment: str) -> None:
    caller = write_package(tmp_path, "caller", PRIVATE_CALLER)
    token = "not-" + PRIVATE_USERS["alice"] if user == "alice" else PRIVATE_USERS["mallory"]
    result = run_with(caller, {"user": user, "token": token})
    assert not result.succeeded
    assert "github.com/acme/secret-echo#1.0.0" in result.error and fragment in result.error
    assert token not in json.dumps([event.to_json() for event in result.events])


def test_a_vendored_copy_runs_with_the_server_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   run_with) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    (tmp_path / "gitconfig").write_text('[url "http://127.0.0.1:9/"]\n\tinsteadOf = https://github.com/\n')
    caller = write_package(tmp_path / "proj" / ".opspec", "caller", f"""\
        name: caller
        outputs: {{ said: {{ string: {{}} }} }}
        run: {{ op: {{ pkg: {{ ref: '{ECHO}' }}, outputs: {{ said: }} }} }}
        """)
    write_package(tmp_path / "proj" / ".opspec", ECHO, ECHO_OP.replace("hello from a remote package", "vendored"))
    result = run_with(caller)
    assert result.succeeded, result.error
    assert result.outputs == {"said": "vendored"}
    assert [(package.ref, package.source, package.commit) for package in result.packages] == [(ECHO, "vendored", None)]


def test_offline_mode_fails_naming_the_ref_and_opspec_pkg_pull(git_env: GitServer, run_with) -> None:
    with pytest.raises(Exception) as caught:
        run_with(GREET, offline=True)
    assert GREET in str(caught.value) and f"opspec pkg pull {GREET}" in str(caught.value)


def test_the_package_map_stubs_a_remote_dependency(git_env: GitServer, run_with, tmp_path: Path) -> None:
    stub = write_package(tmp_path, "stub", ECHO_OP.replace("echo \"said=$(message)\"", "echo \"said=stubbed\""))
    result = run_with(GREET, pkg_map={"github.com/pytest-opspec/echo": stub})
    assert result.succeeded, result.error
    assert result.outputs == {"greeting": "stubbed"}


def test_a_moved_tag_fails_the_run_naming_both_commits(git_env: GitServer, run_with, tmp_path: Path) -> None:
    name = f"github.com/pytest-opspec/moving-{uuid.uuid4().hex[:8]}"
    git_env.repo(name, {"op.yml": ECHO_OP})
    pinned = git_env.commit_of(name, "1.0.0")
    moved = git_env.move_tag(name, "1.0.0", {"op.yml": ECHO_OP.replace("remote", "moved")})
    caller = write_package(tmp_path / "proj", "caller", f"""\
        name: caller
        run: {{ op: {{ pkg: {{ ref: '{name}#1.0.0' }} }} }}
        """)
    LockFile(tmp_path / "proj" / LOCK_FILE, {f"{name}#1.0.0": LockEntry(pinned, "")}).save()
    result = run_with(caller)
    assert not result.succeeded
    assert pinned in result.error and moved in result.error and f"{name}#1.0.0" in result.error


def test_a_failure_report_names_the_remote_packages_with_commit_and_digest(git_env: GitServer, run_with) -> None:
    name = f"github.com/pytest-opspec/fails-{uuid.uuid4().hex[:8]}"
    git_env.repo(name, {"op.yml": "name: fails\nrun:\n  container:\n    image: { ref: alpine }\n"
                                  "    cmd: [sh, -c, 'exit 3']\n"})
    result = run_with(f"{name}#1.0.0")
    assert not result.succeeded
    (package,) = result.packages
    assert f"package {name}#1.0.0 @ {git_env.commit_of(name, '1.0.0')} ({package.digest})" in result.summary()
