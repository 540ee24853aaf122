"""A lease's scratch dir and lock file go on release, whether the run wrote files or not; its root is the temp
dir tempfile would pick."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from pytest_opspec.runtime.lease import Lease, default_root


@pytest.mark.parametrize("wrote_files", [False, True])
def test_release_removes_the_scratch_dir_and_the_lock_file(tmp_path: Path, wrote_files: bool) -> None:
    lease = Lease.acquire("test", root=tmp_path, reaper=False)
    if wrote_files:
        (lease.scratch / "runs" / "a").mkdir(parents=True)
        (lease.scratch / "runs" / "a" / "out.txt").write_text("x")
    assert lease.scratch.is_dir() and lease.lock_path.is_file()
    lease.release()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("variable", [None, "TMPDIR", "TEMP", "TMP"])
def test_the_default_root_is_in_the_temp_dir_tempfile_picks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             variable: str | None) -> None:
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    if variable:
        monkeypatch.setenv(variable, str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile's public cache of its answer: ask again
    assert default_root() == Path(tempfile.gettempdir()) / "pytest-opspec"
    assert default_root() == (tmp_path if variable else Path("/tmp")) / "pytest-opspec"
