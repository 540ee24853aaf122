"""Throwaway copies of dir and file args: a test never changes the files it passes to an op.

An op may write into a dir or file arg it is given (it is bound read-write). Tests pass their own
fixture dirs, so without copies a run changes the source tree and the next run sees its leftovers.
Each started op gets its own folder of copies, named after the args (``<copies>/<arg name>``), kept
until the test ends so outputs pointing into it stay readable.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Mapping

from ..errors import OpspecError
from ..values import Value, ValueType


class ArgCopies:
    """The folders of copies one test (or scenario) made, below ``root``; ``close`` removes them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: list[Path] = []

    def copy(self, args: Mapping[str, Value]) -> tuple[dict[str, Value], Path | None]:
        """``args`` with every dir and file arg replaced by a fresh copy; and the folder of the copies
        (None when there was nothing to copy)."""
        if not any(value.type in (ValueType.DIR, ValueType.FILE) for value in args.values()):
            return dict(args), None
        self.root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="args-", dir=self.root))
        self._folders.append(folder)
        copied: dict[str, Value] = {}
        for index, (name, value) in enumerate(args.items()):
            if value.type not in (ValueType.DIR, ValueType.FILE):
                copied[name] = value
                continue
            target = folder / (name if _plain_name(name) else f"arg-{index}")
            source = Path(value.data)
            if not source.exists():  # nothing to protect: the op reports the missing path as it would anyway
                copied[name] = value
                continue
            try:
                if value.type is ValueType.DIR:
                    shutil.copytree(source, target, symlinks=True)
                    copied[name] = Value.dir(str(target))
                else:
                    shutil.copy2(source, target)
                    copied[name] = Value.file(str(target))
            except OSError as error:
                # The op would fail the same way on the original; say which arg, not which copy.
                raise OpspecError(f"arg {name!r}: cannot read {source}: {error.strerror or error}") from None
        return copied, folder

    def close(self) -> None:
        folders, self._folders = self._folders, []
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and os.sep not in name and (os.altsep or os.sep) not in name
