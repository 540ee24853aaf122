"""The shared cache of remote packages: one checked-out tag per directory.

Layout (like the reference's, so the directory of a ref reads naturally)::

    <root>/<host>/<path>#<tag>/          the package, without .git
    <root>/<host>/<path>#<tag>.json      its record: commit, digest, whether the server asked for auth
    <root>/.locks/<sha256 of ref>.lock   one flock per ref
    <root>/.tmp/<pid>-<random>/          fetches in progress

Safe under concurrent use by xdist workers, several sessions and a node at once: a fetch happens
under the ref's flock (the second process waits and then finds the entry), into a temp dir inside
the cache, published by rename; the record is written last, by rename too, and is what makes an
entry visible. A lookup takes no lock and touches no network. Tags are treated as immutable: a
cached entry is never refreshed (the lock file catches a moved tag).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import OpspecError
from ..processes import process_exists
from .errors import PkgNotFoundError
from .git import Git
from .provenance import content_digest
from .refs import Creds, RemoteRef

MANIFEST = "op.yml"
_RECORD_SUFFIX = ".json"


@dataclass(frozen=True, slots=True)
class CachedPackage:
    ref: RemoteRef
    dir: Path
    commit: str
    digest: str
    auth_required: bool


class PkgCache:
    """Remote packages on disk under ``root``; ``git`` fetches the missing ones."""

    def __init__(self, root: Path, git: Git | None = None) -> None:
        self.root = Path(root).absolute()
        self.git = git or Git()
        self.fetches = 0  # fetches this object performed, for the benchmark and tests

    def entry_dir(self, ref: RemoteRef) -> Path:
        return self.root.joinpath(*ref.name.split("/")[:-1], f"{ref.name.rsplit('/', 1)[1]}#{ref.version}")

    def lookup(self, ref: RemoteRef) -> CachedPackage | None:
        """The cached entry, or None; no lock, no network."""
        directory = self.entry_dir(ref)
        try:
            record = json.loads(directory.with_name(directory.name + _RECORD_SUFFIX).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or not directory.is_dir():
            return None
        return CachedPackage(ref=ref, dir=directory, commit=str(record.get("commit", "")),
                             digest=str(record.get("digest", "")), auth_required=bool(record.get("authRequired")))

    def fetch(self, ref: RemoteRef, creds: Creds | None = None) -> tuple[CachedPackage, bool]:
        """The entry, fetching it when missing; the flag says whether this call fetched it."""
        cached = self.lookup(ref)
        if cached is not None:
            return cached, False
        with self._ref_lock(ref):
            cached = self.lookup(ref)  # another process may have fetched it while we waited
            if cached is not None:
                return cached, False
            return self._fetch_locked(ref, creds), True

    def _fetch_locked(self, ref: RemoteRef, creds: Creds | None) -> CachedPackage:
        tmp_root = self.root / ".tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        _sweep_abandoned(tmp_root)
        scratch = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=tmp_root))
        try:
            checkout = scratch / "pkg"
            fetched = self.git.fetch(ref, checkout, creds, scratch)
            self.fetches += 1
            (checkout / ".git").unlink()  # a pointer to the repository in scratch
            if not (checkout / MANIFEST).is_file():
                raise PkgNotFoundError(ref.text, f"package {ref.text}: the repository {ref.url} has no {MANIFEST} "
                                                 f"at its root at tag {ref.version!r}; the whole repository is the "
                                                 "package")
            digest = content_digest(checkout)
            final = self.entry_dir(ref)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():  # left by a process killed between the two renames; no record, so unused
                os.rename(final, scratch / "stale")
            os.rename(checkout, final)
            record = {"ref": ref.text, "commit": fetched.commit, "digest": digest,
                      "authRequired": fetched.auth_required}
            record_tmp = scratch / "record.json"
            record_tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
            os.replace(record_tmp, final.with_name(final.name + _RECORD_SUFFIX))
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)  # a failure leaves nothing behind when it is reported
            raise
        _remove_soon(scratch)
        return CachedPackage(ref=ref, dir=final, commit=fetched.commit, digest=digest,
                             auth_required=fetched.auth_required)

    @contextlib.contextmanager
    def _ref_lock(self, ref: RemoteRef) -> Iterator[None]:
        locks = self.root / ".locks"
        try:
            locks.mkdir(parents=True, exist_ok=True)
            handle = open(locks / (hashlib.sha256(ref.text.encode()).hexdigest()[:32] + ".lock"), "a+b")
        except OSError as error:
            raise OpspecError(f"package cache {self.root} is not writable ({error.strerror}); set another with "
                              "--opspec-pkg-cache or OPSPEC_PKG_CACHE") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # bounded: the holder's git calls have timeouts
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_removals: list[threading.Thread] = []


def _remove_soon(path: Path) -> None:
    """Delete a scratch dir in the background (deleting a repository costs as much as a small fetch); the
    process waits for it at exit, and a dir left by a killed process is swept by the next fetch."""
    thread = threading.Thread(target=shutil.rmtree, args=(path,), kwargs={"ignore_errors": True},
                              name="opspec-pkg-scratch", daemon=True)
    thread.start()
    _removals[:] = [alive for alive in _removals if alive.is_alive()] + [thread]


@atexit.register
def _finish_removals() -> None:
    for thread in list(_removals):
        thread.join(30)


def _sweep_abandoned(tmp_root: Path) -> None:
    """Remove the scratch dirs of fetching processes that no longer exist (killed mid-fetch)."""
    for entry in os.scandir(tmp_root):
        pid_text = entry.name.split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        if not process_exists(int(pid_text)):
            shutil.rmtree(entry.path, ignore_errors=True)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/opspec/pkgs`` (``~/.cache/opspec/pkgs``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "opspec" / "pkgs"
