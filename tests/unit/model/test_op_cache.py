"""The op cache: a valid op.yml's text comes back parsed, exactly, and nothing else does."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import threading
from pathlib import Path
from typing import Callable

import pytest

from pytest_opspec.model import InvalidOpError, load_op
from pytest_opspec.model import op_cache
from pytest_opspec.model.document import read_op_text
from pytest_opspec.model.op_cache import MAX_ENTRIES, OpCache
from pytest_opspec.model.yaml12 import parse_yaml

OP = """\
name: cached
description: an op with positions worth keeping
inputs:
  greeting: { string: { default: hello, constraints: { minLength: 1 } } }
  count: { number: { default: 3 } }
outputs:
  said: { string: {} }
run:
  serial:
    - container:
        image: { ref: 'opspec-test/busybox:1' }
        cmd: [echo, $(greeting)]
    - container:
        image: { ref: 'opspec-test/busybox:1' }
        cmd: ['true']
"""


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "op-cache"
    monkeypatch.setenv("OPSPEC_OP_CACHE", str(directory))
    return directory


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json")) if directory.exists() else []


def test_a_valid_op_is_kept_and_comes_back_equal_with_its_positions(
        cache_dir: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("cached", OP)
    first = load_op(pkg)
    [entry] = entries(cache_dir)
    from_cache = load_op(pkg)
    assert from_cache == first
    assert from_cache.key_position_of("/run/serial/1/container/cmd") == first.key_position_of(
        "/run/serial/1/container/cmd") is not None
    document = op_cache.current().get(pkg / "op.yml", read_op_text(pkg / "op.yml"))  # type: ignore[union-attr]
    parsed = parse_yaml(OP, pkg / "op.yml")
    assert document is not None
    assert (document.data, document.positions, document.key_positions) == (
        parsed.data, parsed.positions, parsed.key_positions)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600 and stat.S_IMODE(cache_dir.stat().st_mode) == 0o700


def test_any_edit_is_read_afresh_even_with_the_same_size_and_time(
        cache_dir: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("cached", OP)
    load_op(pkg)
    manifest = pkg / "op.yml"
    times = manifest.stat()
    manifest.write_text(OP.replace("hello", "howdy"))
    os.utime(manifest, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert load_op(pkg).inputs["greeting"].default == "howdy"


def test_an_invalid_op_is_never_kept_and_reports_the_same_problems_each_time(
        cache_dir: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("broken", "name: broken\nrun:\n  container:\n    image: { ref: x }\n    cmdd: [true]\n")
    reports = []
    for _ in range(2):
        with pytest.raises(InvalidOpError) as raised:
            load_op(pkg)
        reports.append([problem.format() for problem in raised.value.problems])
    assert reports[0] == reports[1] and "cmdd" in reports[0][0]
    assert entries(cache_dir) == []


@pytest.mark.parametrize("key", ["isSecret", '"is\\x53ecret"'])
def test_an_op_with_a_secret_is_never_written(key: str, cache_dir: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("secret", f"name: secret\ninputs:\n  token: {{ string: {{ default: s3cr3t-value, {key}: true }} }}\n"
                            "run:\n  container:\n    image: { ref: x }\n")
    assert load_op(pkg).inputs["token"].is_secret
    assert entries(cache_dir) == []


@pytest.mark.parametrize("damage", ["cut short", "other stamp", "not json", "other shape"])
def test_a_damaged_or_foreign_entry_is_a_miss_and_is_rewritten(
        damage: str, cache_dir: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("cached", OP)
    expected = load_op(pkg)
    [entry] = entries(cache_dir)
    text = entry.read_text()
    entry.write_text({"cut short": text[:len(text) // 2],
                      "other stamp": json.dumps({**json.loads(text), "stamp": ["older loader"],
                                                 "data": {"name": "stale"}}),
                      "not json": "\x00\x01",
                      "other shape": json.dumps({"stamp": json.loads(text)["stamp"], "text": OP, "data": 1})}[damage])
    assert load_op(pkg) == expected
    assert json.loads(entry.read_text())["data"]["name"] == "cached"


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_op: Callable[..., Path]) -> None:
    monkeypatch.setenv("OPSPEC_OP_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert op_cache.current() is None
    load_op(make_op("cached", OP))
    assert not (tmp_path / "xdg").exists()


def test_the_default_dir_is_under_the_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSPEC_OP_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert op_cache.current().root == tmp_path / "xdg" / "opspec" / "ops"  # type: ignore[union-attr]


def test_a_cache_that_cannot_be_written_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_op: Callable[..., Path]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("OPSPEC_OP_CACHE", str(blocker / "ops"))  # under a file: mkdir fails
    pkg = make_op("cached", OP)
    assert load_op(pkg) == load_op(pkg)


def test_past_the_bound_the_oldest_entries_go(tmp_path: Path, make_op: Callable[..., Path]) -> None:
    cache = OpCache(tmp_path / "ops")
    cache.root.mkdir()
    for number in range(MAX_ENTRIES):
        old = cache.root / f"{number:08x}-1.json"
        old.write_text("{}")
        os.utime(old, ns=(number, number))
    pkg = make_op("cached", OP)
    document = parse_yaml(OP, pkg / "op.yml")
    cache.put(pkg / "op.yml", OP, document)
    left = entries(cache.root)
    assert len(left) < MAX_ENTRIES
    assert cache.get(pkg / "op.yml", OP) is not None  # the newest stays
    assert not (cache.root / "00000000-1.json").exists()


def test_loads_racing_on_one_entry_all_get_the_op_and_leave_one_whole_entry(
        cache_dir: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("cached", OP)
    expected = load_op(pkg)
    (entry,) = entries(cache_dir)
    entry.unlink()
    results, errors = [], []

    def load() -> None:
        try:
            for _ in range(20):
                results.append(load_op(pkg))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 120 and all(result == expected for result in results)
    assert [path.name for path in cache_dir.iterdir()] == [entry.name]
    assert op_cache.current().get(pkg / "op.yml", OP) is not None  # type: ignore[union-attr]


def test_a_cache_dir_others_may_write_to_is_no_cache(cache_dir: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("cached", OP)
    load_op(pkg)
    [entry] = entries(cache_dir)
    entry.unlink()
    cache_dir.chmod(0o777)
    load_op(pkg)
    assert entries(cache_dir) == []  # not written
    cache_dir.chmod(0o700)
    load_op(pkg)
    [entry] = entries(cache_dir)
    planted = json.loads(entry.read_text())
    planted["data"]["description"] = "planted"
    entry.write_text(json.dumps(planted))
    cache_dir.chmod(0o775)
    assert load_op(pkg).description == "an op with positions worth keeping"  # not read


def test_an_entry_that_is_a_symlink_is_neither_followed_nor_read(
        cache_dir: Path, tmp_path: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("cached", OP)
    load_op(pkg)
    [entry] = entries(cache_dir)
    victim = tmp_path / "victim"
    victim.write_text(entry.read_text())
    entry.unlink()
    entry.symlink_to(victim)
    victim_text = victim.read_text()
    assert op_cache.current().get(pkg / "op.yml", OP) is None  # type: ignore[union-attr]
    load_op(pkg)  # a miss, and the write refuses the link
    assert victim.read_text() == victim_text and entry.is_symlink()


def test_an_entry_being_written_is_a_miss_and_a_locked_entry_is_not_rewritten(
        cache_dir: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("cached", OP)
    load_op(pkg)
    [entry] = entries(cache_dir)
    cache = op_cache.current()
    assert cache is not None and cache.get(pkg / "op.yml", OP) is not None
    with open(entry, "rb+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a writer at work
        assert cache.get(pkg / "op.yml", OP) is None
    with open(entry, "rb+") as held:
        fcntl.flock(held, fcntl.LOCK_SH)  # a reader at work
        before = entry.read_bytes()
        cache.put(pkg / "op.yml", OP.replace("hello", "howdy"), parse_yaml(OP.replace("hello", "howdy"), pkg))
        assert entry.read_bytes() == before


def test_a_user_without_a_home_has_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSPEC_OP_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # as with no HOME and no passwd entry
    assert op_cache.current() is None
