"""``opspec.lock``: every remote ref a tree of packages reaches, pinned to its tag's peeled commit.

Resolution honours the nearest lock file in the root package's directory or above, for the whole
call graph: a ref whose tag now names another commit fails, naming both (a request records exactly
which revision it resolved). The file is JSON, keys sorted, so it diffs cleanly::

    {"lockVersion": 1,
     "packages": {"github.com/opspec-pkgs/git.clone#1.0.0": {"commit": "…", "digest": "sha256:…"}}}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OpspecError
from .errors import PkgTagMovedError

LOCK_VERSION = 1


class LockFileError(OpspecError):
    """An opspec.lock that cannot be read."""


@dataclass(frozen=True, slots=True)
class LockEntry:
    """What a lock file pins a remote ref to: its tag's commit and the content digest."""

    commit: str
    digest: str


@dataclass(slots=True)
class LockFile:
    """An opspec.lock: its path and its entries by ref."""

    path: Path
    packages: dict[str, LockEntry] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> LockFile:
        try:
            data = json.loads(path.read_text("utf-8"))
        except OSError as error:
            raise LockFileError(f"{path}: cannot read the lock file ({error.strerror})") from None
        except ValueError as error:
            raise LockFileError(f"{path}: not valid JSON ({error}); rewrite it with `opspec pkg lock`") from None
        packages = data.get("packages") if isinstance(data, dict) else None
        if not isinstance(packages, dict) or data.get("lockVersion") != LOCK_VERSION:
            raise LockFileError(f"{path}: not an opspec.lock of version {LOCK_VERSION} (an object with "
                                "lockVersion and packages); rewrite it with `opspec pkg lock`")
        entries: dict[str, LockEntry] = {}
        for ref, entry in packages.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("commit"), str):
                raise LockFileError(f"{path}: packages.{ref}: expected an object with a commit")
            entries[ref] = LockEntry(commit=entry["commit"], digest=str(entry.get("digest", "")))
        return cls(path=path, packages=entries)

    def save(self) -> None:
        data = {"lockVersion": LOCK_VERSION,
                "packages": {ref: {"commit": entry.commit, "digest": entry.digest}
                             for ref, entry in sorted(self.packages.items())}}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def check(self, ref: str, commit: str) -> None:
        """Raise PkgTagMovedError when the lock pins ``ref`` to another commit."""
        entry = self.packages.get(ref)
        if entry is not None and entry.commit != commit:
            raise PkgTagMovedError(ref, f"package {ref}: the tag now names commit {commit}, but {self.path} pins "
                                        f"commit {entry.commit}; the tag moved. Check the change, then run "
                                        "`opspec pkg lock` to accept it")
