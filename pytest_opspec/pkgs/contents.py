"""A package's contents as the node API lists and serves them (SEMANTICS §9, §10.17).

Listing entries carry the seed's ``path`` (absolute within the package), ``size`` and ``mode`` (a Go
``os.FileMode``, the bits opctl's client expects). Content paths are package-absolute and can never
reach outside the package: ``..`` is refused, and so is a symlink whose target lies outside, also when
the tree changes while it is read (beneath.py opens each component relative to its parent).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from .beneath import open_dir, open_file_beneath, walk_tree

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
    """Every entry below ``pkg_dir``, as ``{"path", "size", "mode"}``.

    Ordered like the reference: by name (bytewise) within a directory, a directory's entry right
    after its contents. Symlinks are listed, not followed. Raises BeneathError (TOO_LARGE) for a tree
    beyond the listing limits (see beneath.py).
    """
    root = open_dir(pkg_dir)
    try:
        entries = walk_tree(root)
    finally:
        os.close(root)
    return [{"path": entry.path, "size": entry.info.st_size, "mode": go_file_mode(entry.info.st_mode)}
            for entry in entries]


def open_content(pkg_dir: str | Path, path: str) -> int:
    """A read-only descriptor of the regular file at package-absolute ``path`` (``/sub/a.txt``; the
    leading slash is optional), opened without leaving the package (see beneath.py).

    Raises BeneathError: ``..`` or a symlink leading outside the package (OUTSIDE), a NUL byte
    (INVALID), an overlong path (TOO_LONG), nothing there (MISSING), a directory or special file
    (NOT_A_FILE).
    """
    root = open_dir(pkg_dir)
    try:
        fd, _ = open_file_beneath(root, path, os.fspath(pkg_dir))
    finally:
        os.close(root)
    return fd
