"""Figures from a container's parent cgroup: found only where they can be read, read once, removed after."""

from pathlib import Path

from pytest_opspec.runtime.cgroups import CgroupFigures

V1 = {"CgroupDriver": "cgroupfs", "CgroupVersion": "1"}
V2 = {"CgroupDriver": "cgroupfs", "CgroupVersion": "2"}


def _v1_tree(root: Path) -> Path:
    for controller in ("memory", "cpuacct", "pids"):
        (root / controller).mkdir(parents=True)
    return root


def test_figures_need_a_local_engine_with_the_cgroupfs_driver_and_a_visible_tree(tmp_path):
    root = _v1_tree(tmp_path / "cgroup")
    assert CgroupFigures.detect(V1, engine_is_local=True, root=root) is not None
    assert CgroupFigures.detect(V1, engine_is_local=False, root=root) is None
    assert CgroupFigures.detect({**V1, "CgroupDriver": "systemd"}, engine_is_local=True, root=root) is None
    assert CgroupFigures.detect({}, engine_is_local=True, root=root) is None
    assert CgroupFigures.detect(V1, engine_is_local=True, root=tmp_path / "nowhere") is None
    assert CgroupFigures.detect(V2, engine_is_local=True, root=root) is None  # no cgroup.controllers


def test_v1_reads_the_parents_memory_high_water_mark_and_cpu_total(tmp_path):
    root = _v1_tree(tmp_path / "cgroup")
    figures = CgroupFigures.detect(V1, engine_is_local=True, root=root)
    parent = figures.parent_for("c1")
    for controller, name, text in (("memory", "memory.max_usage_in_bytes", "67108864\n"),
                                   ("cpuacct", "cpuacct.usage", "1500000000\n")):
        (root / controller / parent.lstrip("/")).mkdir()
        (root / controller / parent.lstrip("/") / name).write_text(text)
    assert figures.read(parent) == (67108864, 1.5)
    assert figures.read(figures.parent_for("gone")) == (None, None)


def test_v2_reads_memory_peak_and_cpu_stat(tmp_path):
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    figures = CgroupFigures.detect(V2, engine_is_local=True, root=root)
    parent = figures.parent_for("c1")
    (root / parent.lstrip("/")).mkdir()
    (root / parent.lstrip("/") / "memory.peak").write_text("1048576\n")
    (root / parent.lstrip("/") / "cpu.stat").write_text("usage_usec 250000\nuser_usec 200000\n")
    assert figures.read(parent) == (1048576, 0.25)


def test_parents_are_removed_in_every_hierarchy_and_a_dead_processs_are_swept(tmp_path):
    root = _v1_tree(tmp_path / "cgroup")
    figures = CgroupFigures.detect(V1, engine_is_local=True, root=root)
    mine = figures.parent_for("c1").lstrip("/")
    dead = "opspec-999999999-c2"  # no such pid
    for controller in ("memory", "cpuacct", "pids"):
        for name in (mine, dead, "other"):
            (root / controller / name).mkdir()
    figures.remove("/" + mine)
    assert figures.sweep_stale() == 1
    for controller in ("memory", "cpuacct", "pids"):
        assert sorted(p.name for p in (root / controller).iterdir()) == ["other"]
