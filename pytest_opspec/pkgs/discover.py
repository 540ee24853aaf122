"""Find op packages (directories holding a file named exactly ``op.yml``) below some paths, and the lock file
above a package."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

OP_FILE = "op.yml"
LOCK_FILE = "opspec.lock"
# Never searched: version control, dependency trees and caches. Hidden directories are skipped
# too, except ``.opspec`` where ops conventionally live (``.opspec/<name>/op.yml``).
_SKIP = frozenset({"node_modules", "__pycache__"})
_HIDDEN_KEPT = frozenset({".opspec"})


def find_packages(paths: Iterable[str | Path]) -> list[Path]:
    """Package directories at or below ``paths``, in path order, each once.

    A path may be a package directory, its op.yml, or any directory to search. Paths keep the
    form they were given in (relative stays relative). Missing paths raise FileNotFoundError.
    """
    found: dict[str, Path] = {}
    for path in paths:
        path = Path(path)
        if path.is_file():
            if path.name != OP_FILE:
                raise NotADirectoryError(f"{path} is neither a directory nor an {OP_FILE}")
            found.setdefault(os.path.normpath(path.parent), path.parent)
            continue
        if not path.is_dir():
            raise FileNotFoundError(f"{path}: no such file or directory")
        for package in _walk(path):
            found.setdefault(os.path.normpath(package), package)
    return sorted(found.values(), key=lambda package: package.parts)


def _walk(root: Path) -> Iterator[Path]:
    pending = [root]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue  # unreadable directories are not packages
        subdirs = []
        for entry in entries:
            name = entry.name
            if name == OP_FILE:
                if entry.is_file():
                    yield directory
            elif entry.is_dir(follow_symlinks=False) and _searched(entry):
                subdirs.append(Path(entry.path))
        pending.extend(sorted(subdirs, reverse=True))


def _searched(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    if name.startswith(".") and name not in _HIDDEN_KEPT:
        return False
    if name in _SKIP:
        return False
    # Any virtualenv, whatever its name.
    return not os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))


def nearest_lock_file(start: Path) -> Path | None:
    """The nearest ``opspec.lock`` in ``start`` or a directory above it; None when there is none."""
    directory = Path(os.path.abspath(start))
    for candidate in (directory, *directory.parents):
        path = candidate / LOCK_FILE
        if path.is_file():
            return path
    return None
