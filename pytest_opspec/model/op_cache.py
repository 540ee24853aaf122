"""A cache of op.yml files found valid, so that loading the same text again skips YAML and the schema.

Loading an op costs importing PyYAML (about 14 ms), parsing, and the schema check (about 5 ms): paid by
every `opspec run`, every op call and every node start of an op. Once a file's text has been parsed and
found valid, its document (values and positions) is kept as JSON under the cache dir, one entry per op.yml
path, and read back (well under a millisecond) while the file's text is exactly the one in the entry.

- Exact: an entry holds the whole text it was made from and is used only for that same text; it also
  holds a stamp of the loader (this package's version and the files that parse and judge op.yml, PyYAML
  included), so a changed loader or schema never reads an old verdict. Only valid files are kept: an
  invalid one is parsed again, and its errors are reported with their lines as before.
- Secrets: a file that mentions ``isSecret`` is never written (its defaults could be secret).
- Best effort: an unreadable, partial or foreign entry is a miss; a cache dir that cannot be written
  is ignored. Writers take an exclusive lock and rewrite the entry in place, so no temp file is ever
  left behind; a reader that catches a write half-way sees a miss (a JSON text is never valid cut short).
- Bounded: past ``MAX_ENTRIES`` entries the least recently written go.

Set by the ``op_cache`` option, env ``OPSPEC_OP_CACHE``: a directory, or ``off``. The default is
``$XDG_CACHE_HOME/opspec/ops`` (``~/.cache/opspec/ops``).
"""

from __future__ import annotations

import functools
import json
import os
import zlib
from pathlib import Path
from typing import Any

from .. import __version__
from .document import YamlDocument
from .types import Position

ENTRY_FORMAT = 1
MAX_ENTRIES = 2000
_PRUNE_TO = 1600
_MODEL_DIR = Path(__file__).resolve().parent
# The modules whose code decides what an op.yml parses to and whether it is valid.
_LOADER_FILES = ("document.py", "yaml12.py", "load.py", "schema.py", "schema_check.py", "../values/formats.py")


def default_dir() -> Path:
    """``$XDG_CACHE_HOME/opspec/ops`` (``~/.cache/opspec/ops``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "opspec" / "ops"


class OpCache:
    """Valid op.yml documents by path, in ``root`` (made on first write, private to the user)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, file: Path, text: str) -> YamlDocument | None:
        """The document of ``file`` when the entry for it was made from exactly ``text`` by this loader."""
        try:
            with open(self._entry(file), encoding="utf-8") as stream:
                entry = json.load(stream)
            if entry["stamp"] != loader_stamp() or entry["text"] != text:
                return None
            return YamlDocument(entry["data"], _positions(entry["positions"]), _positions(entry["key_positions"]))
        except (OSError, ValueError, KeyError, TypeError):  # none yet, cut short, or not ours: parse as usual
            return None

    def put(self, file: Path, text: str, document: YamlDocument) -> None:
        """Keep the document of a valid ``file``; never fails (a cache that cannot be written is skipped)."""
        if "isSecret" in text:
            return
        entry = json.dumps({"stamp": loader_stamp(), "text": text, "data": document.data,
                            "positions": _pairs(document.positions),
                            "key_positions": _pairs(document.key_positions)}).encode()
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(self._entry(file), os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError:
            return
        try:
            import fcntl  # here: only a first load writes

            fcntl.flock(descriptor, fcntl.LOCK_EX)
            os.ftruncate(descriptor, 0)
            os.write(descriptor, entry)
        except OSError:
            return
        finally:
            os.close(descriptor)
        _prune(self.root)

    def _entry(self, file: Path) -> Path:
        path = os.path.abspath(file)
        return self.root / f"{zlib.crc32(path.encode(errors='surrogateescape')):08x}-{len(path)}.json"


def current() -> OpCache | None:
    """The cache ``load_op`` uses, as the ``op_cache`` option says now (read on every load: it is one
    environment lookup, and a test or a node that changes it is obeyed at once)."""
    from ..options import OP_CACHE, resolve

    setting, _ = resolve(OP_CACHE)
    return None if setting is False else OpCache(setting if isinstance(setting, Path) else default_dir())


@functools.cache
def loader_stamp() -> list[Any]:
    """What the cached verdicts depend on besides the text: the loader's code and the schema it checks."""
    import importlib.util

    from ..resources import schema_path

    files = [_MODEL_DIR / name for name in _LOADER_FILES] + [schema_path("op.yml.schema.json")]
    spec = importlib.util.find_spec("yaml")
    if spec is not None and spec.origin:
        files.append(Path(spec.origin))
    stamp: list[Any] = [ENTRY_FORMAT, __version__]
    for path in files:
        try:
            status = path.stat()
            stamp.append([str(path), status.st_size, status.st_mtime_ns])
        except OSError:
            stamp.append([str(path), None, None])
    return stamp


def _pairs(positions: dict[str, Position]) -> dict[str, list[int]]:
    return {pointer: [position.line, position.column] for pointer, position in positions.items()}


def _positions(pairs: dict[str, list[int]]) -> dict[str, Position]:
    return {pointer: Position(line, column) for pointer, (line, column) in pairs.items()}


def _prune(root: Path) -> None:
    """Remove the least recently written entries once there are more than MAX_ENTRIES."""
    try:
        entries = [entry for entry in os.scandir(root) if entry.name.endswith(".json")]
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda entry: entry.stat().st_mtime_ns)
        for entry in entries[:len(entries) - _PRUNE_TO]:
            os.unlink(entry.path)
    except OSError:
        pass
