"""Resolve op call refs to local package directories the way the reference does (SEMANTICS §1)."""

from __future__ import annotations

import os
from pathlib import Path


def is_remote_ref(ref: str) -> bool:
    """A git ref ``host/path#tag``; refs without ``#`` are local only (SEMANTICS §10.19)."""
    return "#" in ref


def local_candidates(ref: str, caller_pkg_dir: Path) -> list[Path]:
    """Where a ref called from the package ``caller_pkg_dir`` is looked up, in order.

    Absolute refs name themselves; relative refs are tried in ``<base>/.opspec/<ref>`` and then
    ``<base>/<ref>``, where base is the directory that holds the calling package.
    """
    if os.path.isabs(ref):
        return [Path(os.path.normpath(ref))]
    base = caller_pkg_dir.parent
    return [Path(os.path.normpath(base / ".opspec" / ref)), Path(os.path.normpath(base / ref))]


def resolve_local_ref(ref: str, caller_pkg_dir: Path) -> Path | None:
    """The first existing candidate directory or file for ``ref``, or None."""
    for candidate in local_candidates(ref, caller_pkg_dir):
        if candidate.exists():
            return candidate
    return None
