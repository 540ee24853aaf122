"""Resolution order for remote refs: package map, vendored copies, cache, git; offline mode; lock files."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pytest_opspec.pkgs.errors import PkgOfflineError, PkgTagMovedError
from pytest_opspec.pkgs.discover import nearest_lock_file
from pytest_opspec.pkgs.lockfile import LockEntry, LockFile
from pytest_opspec.options import PKG_MAP, OptionError, resolve
from pytest_opspec.pkgs.resolve import PackageResolver, PkgOptions

from tests.support.gitserver import ECHO_OP, GitServer
from tests.support import write_package

ECHO_REF = "github.com/pytest-opspec/echo#1.0.0"


def test_a_remote_ref_resolves_through_git_then_the_cache_with_provenance(git_env: GitServer, tmp_path: Path) -> None:
    resolver = PackageResolver(PkgOptions(cache_dir=tmp_path / "cache"))
    first = resolver.resolve(ECHO_REF)
    second = resolver.resolve(ECHO_REF)
    assert first.ref == ECHO_REF and first.dir == second.dir and (first.dir / "op.yml").is_file()
    commit = git_env.commit_of("github.com/pytest-opspec/echo", "1.0.0")
    assert first.provenance is not None and second.provenance is not None
    assert (first.provenance.source, second.provenance.source) == ("git", "cache")
    assert first.provenance.commit == second.provenance.commit == commit
    assert first.provenance.digest == second.provenance.digest


def test_a_vendored_copy_wins_and_needs_no_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No git config at all: https://github.com is unreachable here, so any contact would fail.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    caller = write_package(tmp_path / "proj" / ".opspec", "build", "name: build\n")
    vendored = write_package(tmp_path / "proj" / ".opspec" / ".opspec", ECHO_REF, ECHO_OP)
    plain = write_package(tmp_path / "proj" / ".opspec", "github.com/acme/other#2.0.0", ECHO_OP)
    resolver = PackageResolver(PkgOptions(cache_dir=tmp_path / "cache", offline=True))
    package = resolver.resolve(ECHO_REF, [caller.parent])
    assert package.dir == vendored.resolve() and package.provenance and package.provenance.source == "vendored"
    assert package.provenance.commit is None and package.provenance.digest.startswith("sha256:")
    assert resolver.resolve("github.com/acme/other#2.0.0", [caller.parent]).dir == plain.resolve()


def test_the_package_map_stubs_a_ref_with_or_without_its_version(tmp_path: Path) -> None:
    stub = write_package(tmp_path, "stubs/echo", ECHO_OP)
    for key in (ECHO_REF, "github.com/pytest-opspec/echo"):
        options = PkgOptions(cache_dir=tmp_path / "cache", offline=True,
                             pkg_map=dict(resolve(PKG_MAP, flag=[f"{key}={stub}"], environ={})[0]))
        package = PackageResolver(options).resolve(ECHO_REF)
        assert package.dir == stub.resolve() and package.provenance and package.provenance.source == "map"


def test_a_bad_map_entry_names_its_option(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="env OPSPEC_PKG_MAP: 'nonsense' is not REF=DIR"):
        resolve(PKG_MAP, environ={"OPSPEC_PKG_MAP": "nonsense"})
    with pytest.raises(OptionError, match=f"--opspec-pkg-map: {ECHO_REF} is mapped to .*, which has no op.yml"):
        resolve(PKG_MAP, flag=[f"{ECHO_REF}={tmp_path}"], environ={})


def test_offline_mode_fails_naming_the_ref_and_how_to_get_it(git_env: GitServer, tmp_path: Path) -> None:
    resolver = PackageResolver(PkgOptions(cache_dir=tmp_path / "cache", offline=True))
    before = sum(git_env.requests.values())
    with pytest.raises(PkgOfflineError) as caught:
        resolver.resolve(ECHO_REF)
    assert ECHO_REF in str(caught.value) and f"opspec pkg pull {ECHO_REF}" in str(caught.value)
    assert sum(git_env.requests.values()) == before
    PackageResolver(PkgOptions(cache_dir=tmp_path / "cache")).resolve(ECHO_REF)  # pulled while online
    assert resolver.resolve(ECHO_REF).provenance.source == "cache"  # type: ignore[union-attr]


def test_a_moved_tag_fails_naming_both_commits(git_env: GitServer, tmp_path: Path) -> None:
    name = f"github.com/pytest-opspec/moving-{uuid.uuid4().hex[:8]}"
    git_env.repo(name, {"op.yml": ECHO_OP})
    ref = f"{name}#1.0.0"
    pinned = git_env.commit_of(name, "1.0.0")
    lock = LockFile(tmp_path / "opspec.lock", {ref: LockEntry(pinned, "")})
    assert PackageResolver(PkgOptions(cache_dir=tmp_path / "c1")).resolve(ref, lock=lock).provenance.commit == pinned  # type: ignore[union-attr]
    moved = git_env.move_tag(name, "1.0.0", {"extra.txt": "new\n"})
    for cache in ("c1", "c2"):  # the cached copy (still the pinned one) passes; a fresh fetch sees the move
        resolver = PackageResolver(PkgOptions(cache_dir=tmp_path / cache))
        if cache == "c1":
            resolver.resolve(ref, lock=lock)
            continue
        with pytest.raises(PkgTagMovedError) as caught:
            resolver.resolve(ref, lock=lock)
        assert pinned in str(caught.value) and moved in str(caught.value) and ref in str(caught.value)


def test_the_nearest_lock_file_is_found_above_a_package(tmp_path: Path) -> None:
    LockFile(tmp_path / "opspec.lock", {ECHO_REF: LockEntry("a" * 40, "sha256:x")}).save()
    package = write_package(tmp_path, "ops/.opspec/build", "name: build\n")
    found = nearest_lock_file(package)
    assert found == tmp_path / "opspec.lock" and LockFile.load(found).packages[ECHO_REF].commit == "a" * 40
    assert nearest_lock_file(tmp_path.parent) != found
