"""Package refs and their resolution to a local directory (SEMANTICS §1, §10.19)."""

from __future__ import annotations

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
    return "#" in ref


def resolve(ref: str | Path, lookup_dirs: Sequence[Path] = ()) -> Package:
    """Resolve a ref: an absolute path, or a relative name looked up as ``<dir>/.opspec/<ref>`` and
    then ``<dir>/<ref>`` in each lookup dir. Remote git refs (``host/path#tag``) are not resolved here.
    """
    text = str(ref)
    if not text:
        raise PkgRefError("empty package ref")
    if _SCHEME.match(text):
        raise PkgRefError(f"package ref {text!r} has a URL scheme; write remote refs as host/path#tag")
    if is_remote_ref(text):
        raise PkgRefError(f"package ref {text!r} is a remote git ref; only local packages are supported")
    path = Path(text)
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [c for base in lookup_dirs for c in (base / ".opspec" / text, base / text)]
    for candidate in candidates:
        if candidate.is_dir() and (candidate / MANIFEST).is_file():
            resolved = candidate.resolve()
            return Package(ref=str(resolved), dir=resolved)
    if path.is_absolute():
        raise PkgNotFoundError(f"package {text} not found: no {MANIFEST} in that directory")
    looked = ", ".join(str(c) for c in candidates) or "nowhere (no lookup dirs)"
    raise PkgNotFoundError(f"package {text!r} not found; looked in {looked}")
