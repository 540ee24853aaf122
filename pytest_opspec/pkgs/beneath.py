"""Reading a directory tree without ever leaving it, even while someone rewrites it.

Every path component is opened relative to the already opened parent directory (``openat``) with
``O_NOFOLLOW``, and what was opened is judged by ``fstat`` on the same descriptor, so checking a path
and using it are one step: swapping a directory for a symlink between a check and an open cannot
redirect a read outside the tree (a realpath check followed by ``open`` can). Symlinks inside the tree
are resolved here, one component at a time, with their ``..`` steps taken on the stack of opened
directories and absolute targets accepted only when they point back into the tree.

Listing is iterative (no recursion, so no RecursionError on deep trees) and bounded in depth and
entries; it keeps a directory open only while it still has subdirectories to enter.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from dataclasses import dataclass

from ..errors import OpspecError

# Longest path a client may name (Linux's PATH_MAX) and the longest name of one component.
MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255
# Symlinks followed while resolving one path (Linux's own limit).
MAX_SYMLINKS = 40
# Deepest directory a listing enters: deeper than any path of MAX_PATH_BYTES can name.
MAX_LIST_DEPTH = MAX_PATH_BYTES // 2
# Most entries one listing returns.
MAX_LIST_ENTRIES = 200_000

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Non-blocking, so that opening a FIFO cannot hang; fstat then refuses anything but a regular file.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY


class BeneathError(OpspecError):
    """A path that does not name something readable inside the tree; ``kind`` says why."""

    INVALID = "invalid"
    TOO_LONG = "too long"
    OUTSIDE = "outside"
    MISSING = "missing"
    NOT_A_FILE = "not a file"
    TOO_LARGE = "too large"

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def open_dir(path: str | os.PathLike[str]) -> int:
    """A descriptor of the tree's root directory (symlinks in ``path`` itself are followed)."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def _real_path(root_fd: int, fallback: str) -> str:
    """Where the opened root really is: absolute symlink targets are compared with it."""
    try:
        return os.readlink(f"/proc/self/fd/{root_fd}")
    except OSError:
        return os.path.realpath(fallback)


def request_parts(path: str) -> list[str]:
    """The components of a client's tree-absolute path; BeneathError for one that is never valid."""
    if "\x00" in path:
        raise BeneathError(BeneathError.INVALID, "a path cannot contain a NUL byte")
    if len(os.fsencode(path)) > MAX_PATH_BYTES:
        raise BeneathError(BeneathError.TOO_LONG, f"the path is longer than {MAX_PATH_BYTES} bytes")
    parts = _split(path)
    if ".." in parts:
        raise BeneathError(BeneathError.OUTSIDE, f"{path!r} contains '..'; paths stay inside the package")
    for part in parts:
        if len(os.fsencode(part)) > MAX_NAME_BYTES:
            raise BeneathError(BeneathError.TOO_LONG, f"a name in the path is longer than {MAX_NAME_BYTES} bytes")
    return parts


def _split(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def open_file_beneath(root_fd: int, path: str, root_path: str = "") -> tuple[int, os.stat_result]:
    """Open the regular file at tree-absolute ``path`` (``/sub/a.txt``) beneath ``root_fd``.

    Returns the open descriptor (the caller closes it) and its stat. Raises BeneathError: a path
    leading outside the tree, also through a symlink (OUTSIDE); nothing there (MISSING); a directory
    or special file (NOT_A_FILE); an invalid or overlong path (INVALID, TOO_LONG).
    """
    parts = request_parts(path)
    shown = "/" + "/".join(parts)
    if not parts:
        raise BeneathError(BeneathError.NOT_A_FILE, "/ is the package's directory; list its contents instead")
    resolver = _Resolver(root_fd, _real_path(root_fd, root_path), shown)
    fd = resolver.open(parts)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise BeneathError(BeneathError.NOT_A_FILE, f"{shown} is a directory; list the package's contents instead")
        if not stat.S_ISREG(info.st_mode):
            raise BeneathError(BeneathError.NOT_A_FILE, f"{shown} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


class _Resolver:
    """Walks components on a stack of opened directories; stack[0] is the caller's root."""

    def __init__(self, root_fd: int, root_real: str, shown: str) -> None:
        self.root_real = root_real.rstrip("/") or "/"
        self.shown = shown
        self.stack = [root_fd]
        self.links = 0

    def open(self, parts: list[str]) -> int:
        pending = deque(parts)
        try:
            while pending:
                name = pending.popleft()
                if name == "..":
                    if len(self.stack) == 1:
                        raise self._outside()
                    os.close(self.stack.pop())
                    continue
                last = not pending
                try:
                    fd = os.open(name, _FILE_FLAGS if last else _DIR_FLAGS, dir_fd=self.stack[-1])
                except OSError as error:
                    target = self._link_target(name, error)
                    self._follow(target, pending)
                    continue
                if last:
                    return fd
                self.stack.append(fd)
            raise BeneathError(BeneathError.NOT_A_FILE, f"{self.shown} is a directory; list the package's contents "
                                                        "instead")
        finally:
            for fd in self.stack[1:]:
                os.close(fd)
            del self.stack[1:]

    def _link_target(self, name: str, error: OSError) -> str:
        """The target of symlink ``name`` that refused to open with O_NOFOLLOW; otherwise the failure."""
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            try:
                return os.readlink(name, dir_fd=self.stack[-1])
            except OSError:
                pass  # not a symlink (a file where a directory was expected), or it just went away
        if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            raise BeneathError(BeneathError.MISSING, f"the package has no {self.shown}") from None
        if error.errno == errno.ENAMETOOLONG:
            raise BeneathError(BeneathError.TOO_LONG, f"a name in {self.shown[:200]!r} is too long") from None
        raise error

    def _follow(self, target: str, pending: deque[str]) -> None:
        self.links += 1
        if self.links > MAX_SYMLINKS:
            raise BeneathError(BeneathError.MISSING, f"{self.shown} goes through more than {MAX_SYMLINKS} symlinks")
        if target.startswith("/"):
            if target != self.root_real and not target.startswith(self.root_real + "/") and self.root_real != "/":
                raise self._outside()
            for fd in self.stack[1:]:
                os.close(fd)
            del self.stack[1:]
            target = target[len(self.root_real):]
        pending.extendleft(reversed(_split(target)))

    def _outside(self) -> BeneathError:
        return BeneathError(BeneathError.OUTSIDE, f"{self.shown!r} leads outside the package (through a symlink)")


@dataclass(frozen=True, slots=True)
class TreeEntry:
    path: str  # tree-absolute, e.g. /sub/a.txt
    info: os.stat_result  # of the entry itself (symlinks are not followed)


@dataclass(slots=True)
class _Frame:
    fd: int | None
    prefix: str
    children: list[tuple[str, os.stat_result]]
    last_dir: int  # index of the last subdirectory among children (-1: none)
    entry: TreeEntry | None  # the directory's own entry, listed after its contents
    index: int = 0


def _scan(fd: int) -> list[tuple[str, os.stat_result]]:
    with os.scandir(fd) as scan:
        children = []
        for child in scan:
            try:
                children.append((child.name, child.stat(follow_symlinks=False)))
            except FileNotFoundError:
                continue  # removed while listing
    children.sort(key=lambda child: os.fsencode(child[0]))
    return children


def _frame(fd: int, prefix: str, entry: TreeEntry | None) -> _Frame:
    children = _scan(fd)
    last_dir = max((i for i, (_, info) in enumerate(children) if stat.S_ISDIR(info.st_mode)), default=-1)
    return _Frame(fd, prefix, children, last_dir, entry)


def walk_tree(root_fd: int, max_entries: int = MAX_LIST_ENTRIES, max_depth: int = MAX_LIST_DEPTH) -> list[TreeEntry]:
    """Every entry beneath ``root_fd``, ordered like the reference's listing: by name (bytewise)
    within a directory, a directory's entry right after its contents. Symlinks are listed, not
    followed; a directory replaced while listing is listed as first seen and not entered.

    Raises BeneathError (TOO_LARGE) beyond ``max_entries`` entries or ``max_depth`` levels.
    """
    entries: list[TreeEntry] = []
    frames = [_frame(os.dup(root_fd), "", None)]
    try:
        while frames:
            frame = frames[-1]
            if frame.index == len(frame.children):
                frames.pop()
                if frame.fd is not None:
                    os.close(frame.fd)
                if frame.entry is not None:
                    _add(entries, frame.entry, max_entries)
                continue
            name, info = frame.children[frame.index]
            frame.index += 1
            entry = TreeEntry(f"{frame.prefix}/{name}", info)
            child = _enter(frame, name, info) if stat.S_ISDIR(info.st_mode) else None
            if child is None:
                _add(entries, entry, max_entries)
                continue
            if len(frames) >= max_depth:
                os.close(child)
                raise BeneathError(BeneathError.TOO_LARGE,
                                   f"the package nests directories deeper than {max_depth} levels")
            if frame.index > frame.last_dir and frame.fd is not None:
                os.close(frame.fd)  # no subdirectory left to open from it: deep chains hold few descriptors
                frame.fd = None
            frames.append(_frame(child, entry.path, entry))
    finally:
        for frame in frames:
            if frame.fd is not None:
                os.close(frame.fd)
    return entries


def _enter(frame: _Frame, name: str, info: os.stat_result) -> int | None:
    """Open subdirectory ``name`` if it is still the directory scanned; None otherwise."""
    assert frame.fd is not None
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=frame.fd)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
            return None  # removed or replaced (by a symlink or a file) since it was scanned
        raise
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
        os.close(fd)
        return None
    return fd


def _add(entries: list[TreeEntry], entry: TreeEntry, limit: int) -> None:
    if len(entries) >= limit:
        raise BeneathError(BeneathError.TOO_LARGE, f"the package has more than {limit} entries")
    entries.append(entry)

