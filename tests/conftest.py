"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from tests.support import shared_dir, write_package


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
