"""`opspec pkg lock`: pin every remote ref reachable from a tree of packages, transitively."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from .discover import LOCK_FILE, find_packages
from .lockfile import LockEntry, LockFile
from .refs import is_remote_ref
from .resolve import MANIFEST, PackageResolver, find_local

# The refs a package's op calls name, in document order (the model reads op.yml; pkgs sits below it).
CalledRefs = Callable[[Path], Iterable[str]]


def lock_tree(path: Path, resolver: PackageResolver, called_refs: CalledRefs) -> LockFile:
    """The lock file for ``path``: each remote ref that the packages at or below it call, directly or through
    other packages (remote ones included), pinned to its tag's peeled commit and content digest.

    Remote refs are resolved through the cache and git only (never a vendored or mapped copy: the lock
    records what the tag is), with the user's git credential helpers for private repositories.
    """
    lock = LockFile(Path(path).absolute() / LOCK_FILE)
    pending: list[Path] = [package.resolve() for package in find_packages([path])]
    seen: set[Path] = set(pending)
    while pending:
        package_dir = pending.pop(0)
        for ref in called_refs(package_dir):
            if is_remote_ref(ref):
                package = resolver.resolve_remote(ref)
                provenance = package.provenance
                assert provenance is not None and provenance.commit is not None  # git and cache copies have both
                lock.packages[ref] = LockEntry(provenance.commit, provenance.digest)
                target: Path | None = package.dir
            else:
                target = find_local(ref, [package_dir.parent])
            if target is not None and (target / MANIFEST).is_file() and target.resolve() not in seen:
                seen.add(target.resolve())
                pending.append(target.resolve())
    return lock
