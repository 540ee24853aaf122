"""`opspec pkg lock`: pin every remote ref reachable from a tree of packages, transitively."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..model import Call, OpCall, OpDefinition, ParallelCall, SerialCall, load_op
from .discover import find_packages
from .lockfile import LOCK_FILE, LockEntry, LockFile
from .refs import is_remote_ref
from .resolve import MANIFEST, find_local
from .resolver import PackageResolver


def op_calls(call: Call | None) -> Iterator[OpCall]:
    """Every op call of a run graph, depth first, in document order."""
    if isinstance(call, OpCall):
        yield call
    elif isinstance(call, (SerialCall, ParallelCall)):
        for child in call.calls:
            yield from op_calls(child)


def lock_tree(path: Path, resolver: PackageResolver) -> LockFile:
    """The lock file for ``path``: each remote ref that the packages at or below it call, directly or through
    other packages (remote ones included), pinned to its tag's peeled commit and content digest.

    Remote refs are resolved through the cache and git only (never a vendored or mapped copy: the lock
    records what the tag is), with the user's git credential helpers for private repositories.
    """
    lock = LockFile(Path(path) / LOCK_FILE)
    pending: list[Path] = [package.resolve() for package in find_packages([path])]
    seen: set[Path] = set(pending)
    while pending:
        package_dir = pending.pop(0)
        op: OpDefinition = load_op(package_dir / MANIFEST)
        for call in op_calls(op.run):
            ref = call.pkg_ref
            if is_remote_ref(ref):
                package = resolver.resolve_remote(ref)
                assert package.provenance is not None and package.provenance.commit is not None
                lock.packages[ref] = LockEntry(package.provenance.commit, package.provenance.digest)
                target: Path | None = package.dir
            else:
                target = find_local(ref, [package_dir.parent])
            if target is not None and (target / MANIFEST).is_file() and target.resolve() not in seen:
                seen.add(target.resolve())
                pending.append(target.resolve())
    return lock
