"""Directory chains deeper than PATH_MAX, made and removed relative to descriptors.

pytest removes old temporary dirs with shutil.rmtree, which recurses on Python 3.11 and fails on
such a chain (for every later session sharing the base temp dir), so every test that makes one
removes it: the ``deep_tree`` fixture (tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path


def make_chain(root: Path, depth: int, leaf: str | None = None) -> None:
    """``depth`` nested dirs ``root/d/d/...``, with an empty file ``leaf`` at the bottom if given."""
    current = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=current)
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=current)
            os.close(current)
            current = child
        if leaf is not None:
            os.close(os.open(leaf, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=current))
    finally:
        os.close(current)


def remove_chain(root: Path) -> None:
    """Remove ``root/d`` and everything in it, without recursion."""
    stack = [os.open(root, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        while True:
            try:
                stack.append(os.open("d", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=stack[-1]))
                continue
            except FileNotFoundError:
                pass
            if len(stack) == 1:
                return
            bottom = stack.pop()
            for name in os.listdir(bottom):
                os.unlink(name, dir_fd=bottom)
            os.close(bottom)
            os.rmdir("d", dir_fd=stack[-1])
    finally:
        for fd in stack:
            os.close(fd)

