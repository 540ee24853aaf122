"""Package discovery: directories holding a file named exactly op.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_opspec.pkgs.discover import find_packages
from pytest_opspec.pkgs.resolve import candidates, find_local


def touch(root: Path, *relative: str) -> None:
    for rel in relative:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("name: x\n")


def test_finds_packages_and_skips_what_is_not_searched(tmp_path: Path) -> None:
    touch(tmp_path, "op.yml", ".opspec/build/op.yml", "a/op.yml", "a/nested/op.yml", "build/op.yml",
          ".git/op.yml", ".hidden/x/op.yml", "node_modules/m/op.yml", "venv2/lib/op.yml", "b/Op.yml", "c/op.yaml")
    (tmp_path / "venv2" / "pyvenv.cfg").write_text("")
    found = [p.relative_to(tmp_path).as_posix() for p in find_packages([tmp_path])]
    assert found == [".", ".opspec/build", "a", "a/nested", "build"]


def test_paths_keep_their_form_and_are_unique(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path, "pkgs/one/op.yml", "pkgs/two/op.yml")
    monkeypatch.chdir(tmp_path)
    assert find_packages(["pkgs", "pkgs/one", "pkgs/two/op.yml"]) == [Path("pkgs/one"), Path("pkgs/two")]


def test_explicit_hidden_path_is_searched(tmp_path: Path) -> None:
    touch(tmp_path, ".hidden/x/op.yml")
    assert find_packages([tmp_path / ".hidden"]) == [tmp_path / ".hidden" / "x"]


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        find_packages([tmp_path / "nope"])
    (tmp_path / "f.txt").write_text("")
    with pytest.raises(NotADirectoryError):
        find_packages([tmp_path / "f.txt"])


def test_symlinked_directories_are_not_followed(tmp_path: Path) -> None:
    touch(tmp_path, "real/p/op.yml")
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real")
    assert find_packages([tmp_path / "real"]) == [tmp_path / "real" / "p"]


def test_local_ref_lookup_order(tmp_path: Path) -> None:
    caller = tmp_path / ".opspec" / "a"
    assert candidates("b", [caller.parent]) == [tmp_path / ".opspec" / ".opspec" / "b", tmp_path / ".opspec" / "b"]
    assert candidates("../x", [caller.parent]) == [tmp_path / ".opspec" / "x", tmp_path / "x"]
    assert candidates("/abs/p", [caller.parent]) == [Path("/abs/p")]
    touch(tmp_path, ".opspec/b/op.yml")
    assert find_local("b", [caller.parent]) == tmp_path / ".opspec" / "b"
    assert find_local("zzz", [caller.parent]) is None
