"""Remote package refs ``host/path#tag`` (SEMANTICS §1, §10.19) and pull credentials.

A remote ref names a git repository, cloned from ``https://host/path``, at exactly the tag after
``#``; the whole repository is the package. Parsing is strict so that a ref can never smuggle an
option, a path outside the cache or a URL part into a git command line or a file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import PkgRefError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._~-]*$")
# A git tag name as `git check-ref-format` accepts it, restricted to printable ASCII without shell
# or URL meaning; tags of real packages are semver-like (1.0.0, v2.1.3-rc.1).
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+/-]*$")

# Seconds each git call fetching a remote package may take (PkgOptions.fetch_timeout, Git's timeout).
DEFAULT_FETCH_TIMEOUT = 300.0


def is_remote_ref(ref: str) -> bool:
    """A git ref ``host/path#tag``; refs without ``#`` are local only (SEMANTICS §10.19)."""
    return "#" in ref


def has_scheme(ref: str) -> bool:
    return bool(_SCHEME.match(ref))


@dataclass(frozen=True, slots=True)
class RemoteRef:
    """A parsed remote ref: ``name`` is ``host/path``, ``version`` the tag."""

    name: str
    version: str

    @property
    def text(self) -> str:
        return f"{self.name}#{self.version}"

    @property
    def url(self) -> str:
        """Where git clones from; the user's ``url.<base>.insteadOf`` rules may rewrite it."""
        return f"https://{self.name}"

    @property
    def host(self) -> str:
        return self.name.split("/", 1)[0]

    def __str__(self) -> str:
        return self.text


def parse_remote_ref(ref: str) -> RemoteRef:
    """Parse ``host/path#tag``; raise PkgRefError with a sentence naming the ref and what is wrong."""
    shown = repr(ref)
    if has_scheme(ref):
        raise PkgRefError(ref, f"package ref {shown} has a URL scheme; write remote refs as host/path#tag "
                               "(e.g. github.com/opspec-pkgs/git.clone#1.0.0)")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in ref):
        raise PkgRefError(ref, f"package ref {shown} contains whitespace or control characters")
    name, hash_mark, version = ref.partition("#")
    if not hash_mark:
        raise PkgRefError(ref, f"package ref {shown} has no #version; remote refs are host/path#tag")
    if not version:
        raise PkgRefError(ref, f"package ref {shown} has an empty version after '#'; name an existing tag")
    if "#" in version:
        raise PkgRefError(ref, f"package ref {shown} has more than one '#'")
    segments = name.split("/")
    if len(segments) < 2 or not segments[0]:
        raise PkgRefError(ref, f"package ref {shown} has no host/path before '#'; remote refs are host/path#tag")
    if not _HOST.match(segments[0]):
        raise PkgRefError(ref, f"package ref {shown} has an invalid host {segments[0]!r}")
    for segment in segments[1:]:
        if segment in ("", ".", ".."):
            raise PkgRefError(ref, f"package ref {shown} has an empty, '.' or '..' path segment")
        if not _SEGMENT.match(segment):
            raise PkgRefError(ref, f"package ref {shown} has an invalid path segment {segment!r}")
    if (not _TAG.match(version) or ".." in version or "//" in version or version.endswith((".", "/", ".lock"))
            or "/." in version):
        raise PkgRefError(ref, f"package ref {shown} has an invalid tag {version!r}")
    return RemoteRef(name=name, version=version)


@dataclass(frozen=True, slots=True)
class Creds:
    """Pull credentials (HTTP Basic for git). Never printed: the repr hides both fields."""

    username: str = field(repr=False)
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return "Creds(***)"
