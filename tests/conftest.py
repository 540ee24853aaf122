"""Shared fixtures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .support import shared_dir


@pytest.fixture(scope="session")
def shared() -> Path:
    found = shared_dir()
    if found is None:
        pytest.skip("needs the team's shared/ dir (corpus and upstream spec); set OPSPEC_SHARED_DIR "
                    "or place it at ../shared beside the repository")
    return found


@pytest.fixture
def make_pkg(tmp_path: Path):
    """make_pkg(relative_dir, op_yml_text, **extra_files) -> the package directory."""
    def make(relative: str, op_yml: str, **files: str) -> Path:
        pkg = tmp_path / relative
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "op.yml").write_text(textwrap.dedent(op_yml).lstrip("\n"), encoding="utf-8")
        for name, text in files.items():
            target = pkg / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return pkg
    return make
