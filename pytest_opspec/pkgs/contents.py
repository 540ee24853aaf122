"""A package's contents as the node API lists and serves them (SEMANTICS §9, §10.17).

Listing entries carry the seed's ``path`` (absolute within the package), ``size`` and ``mode`` (a Go
``os.FileMode``, the bits opctl's client expects). Content paths are package-absolute and can never
reach outside the package: ``..`` is refused, and so is a symlink whose target lies outside.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from ..errors import OpspecError

# Go's os.FileMode type bits (https://pkg.go.dev/io/fs#FileMode).
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
GO_MODE_DEVICE = 1 << 26
GO_MODE_NAMED_PIPE = 1 << 25
GO_MODE_SOCKET = 1 << 24
GO_MODE_SETUID = 1 << 23
GO_MODE_SETGID = 1 << 22
GO_MODE_CHAR_DEVICE = 1 << 21
GO_MODE_STICKY = 1 << 20


def go_file_mode(st_mode: int) -> int:
    """The Go FileMode for a Unix ``st_mode`` (a 0755 directory gives 2147484141)."""
    mode = stat.S_IMODE(st_mode) & 0o777
    kind = stat.S_IFMT(st_mode)
    if kind == stat.S_IFDIR:
        mode |= GO_MODE_DIR
    elif kind == stat.S_IFLNK:
        mode |= GO_MODE_SYMLINK
    elif kind == stat.S_IFIFO:
        mode |= GO_MODE_NAMED_PIPE
    elif kind == stat.S_IFSOCK:
        mode |= GO_MODE_SOCKET
    elif kind == stat.S_IFBLK:
        mode |= GO_MODE_DEVICE
    elif kind == stat.S_IFCHR:
        mode |= GO_MODE_DEVICE | GO_MODE_CHAR_DEVICE
    if st_mode & stat.S_ISUID:
        mode |= GO_MODE_SETUID
    if st_mode & stat.S_ISGID:
        mode |= GO_MODE_SETGID
    if st_mode & stat.S_ISVTX:
        mode |= GO_MODE_STICKY
    return mode


def list_contents(pkg_dir: str | Path) -> list[dict[str, Any]]:
    """Every entry below ``pkg_dir``, recursively, as ``{"path", "size", "mode"}``.

    Ordered like the reference: by name (bytewise) within a directory, a directory's entry right
    after its contents. Symlinks are listed, not followed.
    """
    entries: list[dict[str, Any]] = []

    def walk(directory: str, prefix: str) -> None:
        with os.scandir(directory) as scan:
            children = sorted(scan, key=lambda entry: os.fsencode(entry.name))
        for child in children:
            info = child.stat(follow_symlinks=False)
            path = f"{prefix}/{child.name}"
            if stat.S_ISDIR(info.st_mode):
                walk(child.path, path)
            entries.append({"path": path, "size": info.st_size, "mode": go_file_mode(info.st_mode)})

    walk(os.fspath(pkg_dir), "")
    return entries


class ContentPathError(OpspecError):
    """A content path that may not be served; ``kind`` says why."""

    INVALID = "invalid"
    OUTSIDE = "outside"
    MISSING = "missing"
    NOT_A_FILE = "not a file"

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def content_file(pkg_dir: str | Path, path: str) -> Path:
    """The regular file at package-absolute ``path`` (``/sub/a.txt``; the leading slash is optional).

    Raises ContentPathError: ``..`` or a symlink leading outside the package (OUTSIDE), a NUL byte
    (INVALID), nothing there (MISSING), a directory or special file (NOT_A_FILE).
    """
    if "\x00" in path:
        raise ContentPathError(ContentPathError.INVALID, "a content path cannot contain a NUL byte")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ContentPathError(ContentPathError.OUTSIDE,
                               f"{path!r} contains '..'; content paths stay inside the package")
    root = os.path.realpath(pkg_dir)
    target = os.path.realpath(os.path.join(root, *parts))
    if target != root and not target.startswith(root.rstrip(os.sep) + os.sep):
        raise ContentPathError(ContentPathError.OUTSIDE, f"{path!r} leads outside the package (through a symlink)")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        raise ContentPathError(ContentPathError.MISSING, f"the package has no {_shown(parts)}") from None
    except NotADirectoryError:
        raise ContentPathError(ContentPathError.MISSING, f"the package has no {_shown(parts)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ContentPathError(ContentPathError.NOT_A_FILE,
                               f"{_shown(parts)} is a directory; list the package's contents instead")
    if not stat.S_ISREG(info.st_mode):
        raise ContentPathError(ContentPathError.NOT_A_FILE, f"{_shown(parts)} is not a regular file")
    return Path(target)


def _shown(parts: list[str]) -> str:
    return "/" + "/".join(parts)
