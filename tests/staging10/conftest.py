"""Fixtures: one smart-HTTP git server per session (per xdist worker), pointed at by a per-test git config."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from ..gitserver import GitServer, start_standard_server
from ..support import shared_dir


@pytest.fixture(scope="session")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    shared = shared_dir()
    server = start_standard_server(tmp_path_factory.mktemp("git-repos"),
                                   shared / "corpus" / "opspec-pkgs" if shared else None)
    yield server
    server.close()


@pytest.fixture
def git_env(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitServer:
    """The server, with this test's git configured to reach it for https://github.com/ (the user's real
    git config untouched) and the user cache dir inside the test's tmp dir."""
    config = git_server.write_client_config(tmp_path / "gitconfig")
    for key, value in git_server.client_env(config).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return git_server
