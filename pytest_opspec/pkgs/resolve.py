"""Package refs and their resolution to a local directory (SEMANTICS §1, §10.19).

One implementation serves the executor (which must find the package) and the static checks
(which report where it looked).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import OpspecError

MANIFEST = "op.yml"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class PkgNotFoundError(OpspecError):
    """No package exists for a ref."""


class PkgRefError(OpspecError):
    """A ref that is malformed or of a kind this implementation does not resolve."""


@dataclass(frozen=True, slots=True)
class Package:
    """A resolved package. ``ref`` is its identity in events (an absolute path for local packages)."""

    ref: str
    dir: Path

    @property
    def manifest(self) -> Path:
        return self.dir / MANIFEST


def is_remote_ref(ref: str) -> bool:
    """A git ref ``host/path#tag``; refs without ``#`` are local only (SEMANTICS §10.19)."""
    return "#" in ref


def has_scheme(ref: str) -> bool:
    return bool(_SCHEME.match(ref))


def candidates(ref: str, lookup_dirs: Sequence[Path]) -> list[Path]:
    """Where a local ref is looked for, in order: itself when absolute, else ``<dir>/.opspec/<ref>``
    then ``<dir>/<ref>`` for each lookup dir (for an op call: the dir holding the calling package)."""
    if os.path.isabs(ref):
        return [Path(os.path.normpath(ref))]
    return [Path(os.path.normpath(base / sub / ref)) for base in lookup_dirs for sub in (".opspec", "")]


def find_local(ref: str, lookup_dirs: Sequence[Path]) -> Path | None:
    """The first candidate that exists (of any type, as the reference's FS provider), or None."""
    for candidate in candidates(ref, lookup_dirs):
        if candidate.exists():
            return candidate
    return None


def resolve(ref: str | Path, lookup_dirs: Sequence[Path] = ()) -> Package:
    """Resolve a local ref to its package. Remote git refs (``host/path#tag``) are not resolved here."""
    text = os.fspath(ref)
    if not text:
        raise PkgRefError("empty package ref")
    if has_scheme(text):
        raise PkgRefError(f"package ref {text!r} has a URL scheme; write remote refs as host/path#tag")
    if is_remote_ref(text):
        raise PkgRefError(f"package ref {text!r} is a remote git ref; only local packages are supported")
    found = find_local(text, lookup_dirs)
    if found is None:
        looked = ", ".join(str(c) for c in candidates(text, lookup_dirs)) or "nowhere (no lookup dirs)"
        raise PkgNotFoundError(f"package {text!r} not found; looked in {looked}")
    if not (found / MANIFEST).is_file():
        raise PkgNotFoundError(f"package {text!r} resolves to {found}, which has no {MANIFEST}")
    resolved = found.resolve()
    return Package(ref=str(resolved), dir=resolved)
