"""Fetching remote packages into the shared cache, against a real smart-HTTP git server."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from pytest_opspec.pkgs.cache import PkgCache
from pytest_opspec.pkgs.errors import (PkgAuthenticationError, PkgAuthorizationError, PkgError, PkgFetchError,
                                       PkgNotFoundError)
from pytest_opspec.pkgs.git import Git
from pytest_opspec.pkgs.refs import Creds, parse_remote_ref

from tests.support.gitserver import ECHO_OP, PRIVATE_USERS, GitServer

ECHO = "github.com/pytest-opspec/echo"


def assert_cache_clean(cache: PkgCache, ref: str) -> None:
    """Nothing half-written: no entry, no record, no scratch dir left."""
    remote = parse_remote_ref(ref)
    entry = cache.entry_dir(remote)
    assert not entry.exists() and not entry.with_name(entry.name + ".json").exists()
    assert not any((cache.root / ".tmp").iterdir()) if (cache.root / ".tmp").exists() else True


@pytest.mark.parametrize("tag", ["1.0.0", "1.0.1"])  # annotated, lightweight
def test_a_tag_is_fetched_at_its_peeled_commit_without_git_metadata(git_env: GitServer, tmp_path: Path,
                                                                     tag: str) -> None:
    cache = PkgCache(tmp_path / "cache")
    cached, fetched = cache.fetch(parse_remote_ref(f"{ECHO}#{tag}"))
    assert fetched and cached.commit == git_env.commit_of(ECHO, tag)
    assert (cached.dir / "op.yml").read_text() == ECHO_OP and not (cached.dir / ".git").exists()
    assert cached.dir == tmp_path / "cache" / "github.com" / "pytest-opspec" / f"echo#{tag}"
    assert cached.digest.startswith("sha256:") and not cached.auth_required


def test_a_cached_ref_makes_no_network_contact(git_env: GitServer, tmp_path: Path) -> None:
    PkgCache(tmp_path / "cache").fetch(parse_remote_ref(f"{ECHO}#1.0.0"))
    before = git_env.requests[ECHO]
    again, fetched = PkgCache(tmp_path / "cache").fetch(parse_remote_ref(f"{ECHO}#1.0.0"))
    assert not fetched and git_env.requests[ECHO] == before


def test_concurrent_first_use_clones_once(git_env: GitServer, tmp_path: Path) -> None:
    name = f"github.com/pytest-opspec/concurrent-{uuid.uuid4().hex[:8]}"
    git_env.repo(name, {"op.yml": ECHO_OP})
    results: list[bool] = []

    def first_use() -> None:  # a separate cache object each: separate flock file descriptions, as processes
        results.append(PkgCache(tmp_path / "cache").fetch(parse_remote_ref(f"{name}#1.0.0"))[1])

    threads = [threading.Thread(target=first_use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == [False, False, False, True] and git_env.fetches[name] == 1


@pytest.mark.parametrize("ref, error, fragment", [
    (f"{ECHO}#9.9.9", PkgNotFoundError, "tag '9.9.9' not found"),
    ("github.com/acme/no-manifest#1.0.0", PkgNotFoundError, "has no op.yml at its root"),
    ("github.com/acme/missing-repo#1.0.0", PkgNotFoundError, "not found"),
    ("github.com/acme/garbage#1.0.0", PkgFetchError, "could not fetch"),
    ("github.com/acme/hangs#1.0.0", PkgFetchError, "within 2s"),
])
def test_a_failed_fetch_names_the_ref_and_leaves_nothing_in_the_cache(git_env: GitServer, tmp_path: Path, ref: str,
                                                                      error: type[PkgError], fragment: str) -> None:
    cache = PkgCache(tmp_path / "cache", Git(timeout=2))
    with pytest.raises(error) as caught:
        cache.fetch(parse_remote_ref(ref))
    assert ref in str(caught.value) and fragment in str(caught.value) and caught.value.ref == ref
    assert "\x1b" not in str(caught.value)
    assert_cache_clean(cache, ref)


@pytest.mark.parametrize("creds, error, fragment", [
    (None, PkgAuthenticationError, "requires authentication"),
    (Creds("alice", "wrong-password"), PkgAuthenticationError, "failed authentication"),
    (Creds("mallory", PRIVATE_USERS["mallory"]), PkgAuthorizationError, "not authorized"),
])
def test_private_repos_tell_authentication_from_authorization(git_env: GitServer, tmp_path: Path,
                                                              creds: Creds | None, error: type[PkgError],
                                                              fragment: str) -> None:
    ref = "github.com/acme/secret-echo#1.0.0"
    cache = PkgCache(tmp_path / "cache")
    with pytest.raises(error) as caught:
        cache.fetch(parse_remote_ref(ref), creds)
    message = str(caught.value)
    assert ref in message and fragment in message
    assert all(secret not in message for secret in [*PRIVATE_USERS.values(), "wrong-password"])
    assert_cache_clean(cache, ref)


def test_pull_credentials_fetch_a_private_repo_and_mark_it_private(git_env: GitServer, tmp_path: Path) -> None:
    cached, _ = PkgCache(tmp_path / "cache").fetch(parse_remote_ref("github.com/acme/secret-echo#1.0.0"),
                                                   Creds("alice", PRIVATE_USERS["alice"]))
    assert cached.auth_required and (cached.dir / "op.yml").is_file()
    record = cached.dir.with_name(cached.dir.name + ".json").read_text()
    assert PRIVATE_USERS["alice"] not in record


def test_without_pull_credentials_the_users_git_credential_helper_applies(git_env: GitServer, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "git-credentials"
    host = git_env.base_url.split("://", 1)[1]
    store.write_text(f"http://alice:{PRIVATE_USERS['alice']}@{host}\n")
    store.chmod(0o600)
    config = git_env.write_client_config(tmp_path / "gitconfig-helper", f'[credential]\n\thelper = store --file {store}\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    cached, fetched = PkgCache(tmp_path / "cache").fetch(parse_remote_ref("github.com/acme/secret-echo#1.0.0"))
    assert fetched and cached.auth_required


def test_credentials_never_reach_a_command_line(git_env: GitServer, tmp_path: Path) -> None:
    seen: list[list[str]] = []

    class Recording(Git):
        def _run(self, ref, args, env, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(args)
            return super()._run(ref, args, env, **kwargs)

    PkgCache(tmp_path / "cache", Recording()).fetch(parse_remote_ref("github.com/acme/secret-echo#1.0.0"),
                                                    Creds("alice", PRIVATE_USERS["alice"]))
    assert seen and not any(PRIVATE_USERS["alice"] in arg or "alice" in arg for args in seen for arg in args)


def test_a_scratch_dir_of_a_killed_fetch_is_swept(git_env: GitServer, tmp_path: Path) -> None:
    abandoned = tmp_path / "cache" / ".tmp" / "999999999-xyz"
    (abandoned / "pkg").mkdir(parents=True)
    PkgCache(tmp_path / "cache").fetch(parse_remote_ref(f"{ECHO}#1.0.0"))
    assert not abandoned.exists()
