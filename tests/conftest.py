"""Shared fixtures."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.support import shared_dir, write_package
from tests.support.gitserver import GitServer, start_standard_server
from tests.support.deep_trees import make_chain, remove_chain


def pytest_configure(config: pytest.Config) -> None:
    """One op cache for the session and every process it starts, never the user's: set before test modules
    are imported (some copy the environment then). Every test that loads an op twice reads it back from the
    cache, so the whole suite runs on cached ops as users do."""
    directory = tempfile.mkdtemp(prefix="opspec-test-op-cache-")
    previous = os.environ.get("OPSPEC_OP_CACHE")
    os.environ["OPSPEC_OP_CACHE"] = directory

    def restore() -> None:
        shutil.rmtree(directory, ignore_errors=True)
        if previous is None:
            os.environ.pop("OPSPEC_OP_CACHE", None)
        else:
            os.environ["OPSPEC_OP_CACHE"] = previous

    config.add_cleanup(restore)


@pytest.fixture(scope="session")
def shared() -> Path:
    found = shared_dir()
    if found is None:
        pytest.skip("needs the team's shared/ dir (corpus and upstream spec); set OPSPEC_SHARED_DIR "
                    "or place it at ../shared beside the repository")
    return found


@pytest.fixture
def make_pkg(tmp_path: Path) -> Callable[..., Path]:
    """make_pkg(relative_dir, op_yml_text, **extra_files) -> the package directory."""
    def make(relative: str, op_yml: str, **files: str) -> Path:
        return write_package(tmp_path, relative, op_yml, files)
    return make


@pytest.fixture
def make_op(tmp_path: Path) -> Callable[..., Path]:
    """make_op("name", op_yml_text, files={"rel/path": "content"}, parent=None) -> the package directory."""
    def make(name: str, op_yml: str, files: dict[str, str] | None = None, parent: Path | None = None) -> Path:
        return write_package(parent or tmp_path, name, op_yml, files)
    return make


@pytest.fixture(scope="session")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """A smart-HTTP git server (git http-backend) serving the standard repositories, one per session (per
    xdist worker); tests that change a repository create their own (a unique name)."""
    shared = shared_dir()
    server = start_standard_server(tmp_path_factory.mktemp("git-repos"),
                                   shared / "corpus" / "opspec-pkgs" if shared else None)
    yield server
    server.close()


@pytest.fixture
def git_env(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitServer:
    """The git server, with this test's git (GIT_CONFIG_GLOBAL; the user's own config untouched) sending
    https://github.com/ to it, and the user cache dir inside the test's tmp dir."""
    config = git_server.write_client_config(tmp_path / "gitconfig")
    for key, value in git_server.client_env(config).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return git_server


@pytest.fixture
def deep_tree() -> Iterator[Callable[..., None]]:
    """deep_tree(root, depth, leaf=None) makes ``depth`` nested dirs ``root/d/d/...`` (a file ``leaf`` at the
    bottom); each chain is removed after the test, without recursion."""
    made: list[Path] = []

    def make(root: Path, depth: int, leaf: str | None = None) -> None:
        made.append(root)
        make_chain(root, depth, leaf)

    yield make
    for root in made:
        remove_chain(root)
