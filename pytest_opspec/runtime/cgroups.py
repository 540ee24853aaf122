"""Exact resource figures of a container at its end, from the cgroup it ran under.

The engine's stats API cannot give them: it samples once a second and a container's cgroup is gone
by the time the engine reports its exit, so the last second (often the whole run) is lost. Instead
each container runs under a parent cgroup of its own (``HostConfig.CgroupParent``, created by the
engine). The kernel charges a child's cpu time and memory to its parents as well, and the parent
outlives the container, so reading the parent once after the exit gives the exact totals: cpu
time (cpuacct.usage, v2 cpu.stat usage_usec) and the memory high-water mark
(memory.max_usage_in_bytes, v2 memory.peak). That costs two small file reads and a few rmdirs.

It needs the engine on this host with the ``cgroupfs`` cgroup driver and this process seeing the
host's cgroup tree (and allowed to remove from it); ``CgroupFigures.detect`` checks all of that and
returns None otherwise, and the figures are then not measured (None).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from ..logs import logger
from ..processes import process_exists


CGROUP_ROOT = Path("/sys/fs/cgroup")
# Parent cgroups are named PREFIX<pid>-<container name>, so a later run can remove those a crashed one left.
PREFIX = "opspec-"


class CgroupFigures:
    def __init__(self, root: Path, hierarchies: list[Path], unified: bool) -> None:
        self.root = root
        self._hierarchies = hierarchies  # every mounted hierarchy the engine makes the parent in
        self._unified = unified
        self._pid = os.getpid()

    @classmethod
    def detect(cls, engine_info: Mapping[str, Any], engine_is_local: bool,
               root: Path = CGROUP_ROOT) -> CgroupFigures | None:
        if not engine_is_local or engine_info.get("CgroupDriver") != "cgroupfs":
            return None
        if str(engine_info.get("CgroupVersion", "1")) == "2":
            unified = True
            hierarchies = [root] if (root / "cgroup.controllers").is_file() else []
            needed = [root / "cgroup.controllers"]
        else:
            unified = False
            hierarchies = [p for p in _subdirs(root) if not p.is_symlink()]
            needed = [root / "memory", root / "cpuacct"]
        if not hierarchies or not all(p.exists() and os.access(p, os.W_OK) for p in needed):
            return None
        return cls(root, hierarchies, unified)

    def parent_for(self, container_name: str) -> str:
        """The cgroup parent to give the engine for this container (a path from the hierarchy's root)."""
        return f"/{PREFIX}{self._pid}-{container_name}"

    def read(self, parent: str) -> tuple[int | None, float | None]:
        """(peak memory in bytes, cpu seconds) charged under ``parent``; None where it cannot be read."""
        relative = parent.lstrip("/")
        if self._unified:
            memory = _read_int(self.root / relative / "memory.peak")
            usec = _read_stat(self.root / relative / "cpu.stat", "usage_usec")
            return memory, None if usec is None else usec / 1e6
        memory = _read_int(self.root / "memory" / relative / "memory.max_usage_in_bytes")
        nanos = _read_int(self.root / "cpuacct" / relative / "cpuacct.usage")
        return memory, None if nanos is None else nanos / 1e9

    def remove(self, parent: str) -> None:
        """Remove the parent in every hierarchy (once its container's own cgroup is gone)."""
        relative = parent.lstrip("/")
        for hierarchy in self._hierarchies:
            try:
                os.rmdir(hierarchy / relative)
            except FileNotFoundError:
                pass
            except OSError as error:
                logger(__name__).debug("could not remove cgroup %s: %s", hierarchy / relative, error)

    def sweep_stale(self) -> int:
        """Remove the parents that processes which no longer exist left behind; return how many."""
        names = set()
        for hierarchy in self._hierarchies:
            for path in _subdirs(hierarchy):
                pid = path.name[len(PREFIX):].partition("-")[0] if path.name.startswith(PREFIX) else ""
                if pid.isdigit() and int(pid) != self._pid and not process_exists(int(pid)):
                    names.add(path.name)
        for name in names:
            self.remove("/" + name)
        return len(names)


def _subdirs(path: Path) -> list[Path]:
    try:
        return [Path(entry.path) for entry in os.scandir(path) if entry.is_dir()]
    except OSError:
        return []


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _read_stat(path: Path, key: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        return None
    return None
