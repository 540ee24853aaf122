"""Package refs and their resolution to a local directory (SEMANTICS §1, §10.19).

One PackageResolver serves the executor (which must find the package) and the static checks (which
only look at what is available without the network). A ref is looked up in the package map, then the
vendored copies ``<dir>/.opspec/<ref>`` and ``<dir>/<ref>`` for each lookup dir (for an op call: the
directory holding the calling package), then, for a remote ref ``host/path#tag``, the cache and git.
Each remote package comes back with its provenance (ref, commit, content digest, source). The cache, git,
lock files and digests are imported where a remote ref (or a vendored or mapped copy of one) needs them:
a run of local packages loads none of them.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from .errors import PkgAuthenticationError, PkgNotFoundError, PkgOfflineError, PkgRefError
from .refs import DEFAULT_FETCH_TIMEOUT, Creds, has_scheme, is_remote_ref, parse_remote_ref

if TYPE_CHECKING:
    from .cache import PkgCache
    from .lockfile import LockFile
    from .provenance import Provenance

MANIFEST = "op.yml"


@dataclass(frozen=True, slots=True)
class Package:
    """A resolved package. ``ref`` is its identity in events: an absolute path for local packages, the ref
    as written for remote ones (SEMANTICS §1 "Handle identity")."""

    ref: str
    dir: Path
    provenance: Provenance | None = None  # remote refs only: commit, digest, where the copy came from

    @property
    def manifest(self) -> Path:
        return self.dir / MANIFEST


def candidates(ref: str, lookup_dirs: Sequence[Path]) -> list[Path]:
    """Where a ref is looked for on disk, in order: itself when absolute, else ``<dir>/.opspec/<ref>``
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


@dataclass(frozen=True)
class PkgOptions:
    """``pkg_map`` maps a ref (with or without ``#version``) to a local package directory."""

    cache_dir: Path | None = None
    offline: bool = False
    pkg_map: Mapping[str, Path] = field(default_factory=dict)
    fetch_timeout: float = DEFAULT_FETCH_TIMEOUT


class PackageResolver:
    """Thread-safe; share one per process so its cache object counts the fetches."""

    def __init__(self, options: PkgOptions | None = None, *, cache: PkgCache | None = None) -> None:
        self.options = options or PkgOptions()
        self._cache = cache
        self._digests: dict[Path, str] = {}
        self._access: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    @property
    def cache(self) -> PkgCache:
        with self._lock:
            if self._cache is None:
                from .cache import PkgCache, default_cache_dir
                from .git import Git

                self._cache = PkgCache(self.options.cache_dir or default_cache_dir(),
                                       Git(timeout=self.options.fetch_timeout))
            return self._cache

    def resolve(self, ref: str | os.PathLike[str], lookup_dirs: Sequence[Path] = (), *, creds: Creds | None = None,
                lock: LockFile | None = None, fetch: bool = True) -> Package:
        """The package ``ref`` names, looked up in the map, ``<dir>/.opspec/<ref>`` and ``<dir>/<ref>`` for
        each lookup dir, the cache, then git (a remote ref only; never when offline or ``fetch`` is False,
        which raise PkgOfflineError). ``lock`` pins remote refs' commits."""
        text = os.fspath(ref)
        if not text:
            raise PkgRefError(text, "empty package ref")
        if has_scheme(text):
            raise PkgRefError(text, f"package ref {text!r} has a URL scheme; write remote refs as host/path#tag "
                                    "and local ones as paths")
        remote = parse_remote_ref(text) if is_remote_ref(text) else None  # malformed refs fail first
        mapped = self.options.pkg_map.get(text) or self.options.pkg_map.get(text.partition("#")[0])
        if mapped is not None:
            return self._local_copy(text, mapped, "map" if remote else None)
        found = find_local(text, lookup_dirs)
        if remote is None:
            if found is None:
                looked = ", ".join(str(c) for c in candidates(text, lookup_dirs)) or "nowhere (no lookup dirs)"
                raise PkgNotFoundError(text, f"package {text!r} not found; looked in {looked}")
            return self._local_copy(text, found, None)
        if found is not None:
            return self._local_copy(text, found, "vendored")
        return self.resolve_remote(text, creds=creds, lock=lock, fetch=fetch)

    def resolve_remote(self, ref: str, *, creds: Creds | None = None, lock: LockFile | None = None,
                       fetch: bool = True) -> Package:
        """A remote ref from the cache, else fetched with git (never mapped or vendored copies)."""
        remote = parse_remote_ref(ref)
        cached = self.cache.lookup(remote)
        source = "cache"
        if cached is None:
            if self.options.offline or not fetch:
                why = "offline mode forbids fetching it" if self.options.offline else "it was not fetched"
                raise PkgOfflineError(ref, f"package {ref} is not in the package cache ({self.cache.root}), "
                                           f"mapped or vendored, and {why}; get it with `opspec pkg pull {ref}`")
            _check_creds(ref, creds)
            cached, fetched = self.cache.fetch(remote, creds)
            source = "git" if fetched else "cache"
        if lock is not None:
            lock.check(ref, cached.commit)
        from .provenance import Provenance

        return Package(ref=ref, dir=cached.dir,
                       provenance=Provenance(ref, cached.commit, cached.digest, source, cached.dir))

    def check_access(self, ref: str, creds: Creds | None) -> None:
        """Prove these credentials may read ``ref``'s repository (a network call, remembered per credentials);
        used before serving a cached private package. Raises the pull errors."""
        import hashlib

        remote = parse_remote_ref(ref)
        _check_creds(ref, creds)
        key = (ref, hashlib.sha256(f"{creds.username}\0{creds.password}".encode()).hexdigest() if creds else "")
        with self._lock:
            if key in self._access:
                return
        commit = self.cache.git.check_access(remote, creds)
        with self._lock:
            self._access[key] = commit

    def _local_copy(self, ref: str, directory: Path, source: str | None) -> Package:
        if not (directory / MANIFEST).is_file():
            raise PkgNotFoundError(ref, f"package {ref!r} resolves to {directory}, which has no {MANIFEST}")
        resolved = directory.resolve()
        if source is None:
            return Package(ref=str(resolved), dir=resolved)
        from .provenance import Provenance, content_digest

        with self._lock:
            digest = self._digests.get(resolved)
        if digest is None:
            digest = content_digest(resolved)
            with self._lock:
                self._digests[resolved] = digest
        return Package(ref=ref, dir=resolved, provenance=Provenance(ref, None, digest, source, resolved))


def _check_creds(ref: str, creds: Creds | None) -> None:
    if creds is not None and any(ch in value for value in (creds.username, creds.password) for ch in "\n\0"):
        raise PkgAuthenticationError(ref, f"package {ref}: the pull credentials contain a newline or NUL byte")
