"""Provenance of the packages a run used: ref, commit and a content digest."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DIGEST_ALGORITHM = "sha256"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a remote ref's package came from.

    ``source`` is ``git`` (fetched now), ``cache``, ``vendored`` (a copy beside the calling package)
    or ``map`` (the package map); ``commit`` is the tag's peeled commit, None for vendored and mapped
    copies, which carry no history.
    """

    ref: str
    commit: str | None
    digest: str
    source: str
    dir: Path

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "commit": self.commit, "digest": self.digest, "source": self.source,
                "dir": str(self.dir)}


def content_digest(root: Path) -> str:
    """``sha256:<hex>`` over every file below ``root`` (path, executable bit or link target, bytes).

    Independent of timestamps, owners and file-system order, so the same tag gives the same digest
    on every machine; ``.git`` is never part of a package.
    """
    import hashlib  # here: a run of local packages digests nothing, and hashlib loads OpenSSL

    outer = hashlib.sha256()
    base = os.fspath(root)
    for directory, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(name for name in dirnames if not (directory == base and name == ".git"))
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]):
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, base).replace(os.sep, "/")
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                kind, data = "link", os.fsencode(os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                kind = "exec" if info.st_mode & 0o111 else "file"
                data = Path(path).read_bytes()
            else:
                continue
            outer.update(f"{kind} {relative}\0".encode("utf-8", "surrogateescape"))
            outer.update(hashlib.sha256(data).digest())
    return f"{DIGEST_ALGORITHM}:{outer.hexdigest()}"
