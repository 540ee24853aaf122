"""A cache of op.yml files found valid, so that loading the same text again skips YAML and the schema.

Loading an op costs importing PyYAML (about 14 ms), parsing, and the schema check (about 5 ms): paid by
every `opspec run`, every op call and every node start of an op. Once a file's text has been parsed and
found valid, its document (values and positions) is kept as JSON under the cache dir, one entry per op.yml
path, and read back (well under a millisecond) while the file's text is exactly the one in the entry.

- Exact: an entry holds the whole text it was made from and is used only for that same text; it also
  holds a stamp of the loader (this package's version and the files that parse and judge op.yml, PyYAML
  included), so a changed loader or schema never reads an old verdict. Only valid files are kept: an
  invalid one is parsed again, and its errors are reported with their lines as before.
- Secrets: a file that declares a param with ``isSecret`` is never written (its default could be secret).
- Best effort: an unreadable, partial or foreign entry is a miss; a cache dir that cannot be written,
  or that is not the user's own and private, is ignored. Writers rewrite an entry in place under an
  exclusive lock, so no temp file is ever left behind; readers take a shared lock, and an entry being
  written is a miss (neither waits). A SIGKILL mid-write leaves a cut-short entry: a miss, rewritten.
- Bounded: past ``MAX_ENTRIES`` entries the least recently written go.

Set by the ``op_cache`` option, env ``OPSPEC_OP_CACHE``: a directory, or ``off``. The default is
``$XDG_CACHE_HOME/opspec/ops`` (``~/.cache/opspec/ops``).
"""

from __future__ import annotations

import fcntl
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


def default_dir() -> Path | None:
    """``$XDG_CACHE_HOME/opspec/ops`` (``~/.cache/opspec/ops``); None for a user with no home directory."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home == "~":  # no HOME and no passwd entry (a container run as --user N): no cache
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "opspec" / "ops"


class OpCache:
    """Valid op.yml documents by path, in ``root`` (made on first write, private to the user).

    Used only while ``root`` is a directory of this user that nobody else may write to: entries decide
    what an op runs, so a shared or foreign directory counts as no cache at all.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, file: Path, text: str) -> YamlDocument | None:
        """The document of ``file`` when the entry for it was made from exactly ``text`` by this loader."""
        try:
            if not self._private():
                return None
            descriptor = os.open(self._entry(file), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with open(descriptor, "rb") as stream:
                fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)  # being written: a miss, not a wait
                entry = json.loads(stream.read())
            if entry["stamp"] != loader_stamp() or entry["text"] != text:
                return None
            return YamlDocument(entry["data"], _positions(entry["positions"]), _positions(entry["key_positions"]))
        except (OSError, ValueError, KeyError, TypeError):  # none yet, cut short, or not ours: parse as usual
            return None

    def put(self, file: Path, text: str, document: YamlDocument) -> None:
        """Keep the document of a valid ``file``; never fails (a cache that cannot be written is skipped)."""
        if _declares_secret(document.data):
            return
        entry = json.dumps({"stamp": loader_stamp(), "text": text, "data": document.data,
                            "positions": _pairs(document.positions),
                            "key_positions": _pairs(document.key_positions)}).encode()
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self._private():
                return
            descriptor = os.open(self._entry(file), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError:
            return
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process writes it: leave it to that
            os.ftruncate(descriptor, 0)
            written = 0
            while written < len(entry):
                written += os.write(descriptor, entry[written:])
        except OSError:
            return
        finally:
            os.close(descriptor)
        _prune(self.root)

    def _private(self) -> bool:
        status = os.stat(self.root)
        return status.st_uid == os.getuid() and not status.st_mode & 0o022

    def _entry(self, file: Path) -> Path:
        path = os.path.abspath(file)
        return self.root / f"{zlib.crc32(path.encode(errors='surrogateescape')):08x}-{len(path)}.json"


def _declares_secret(data: Any) -> bool:
    """Whether a (valid) op.yml declares an input or output with ``isSecret``: its default could be secret."""
    return any(isinstance(spec, dict) and spec.get("isSecret")
               for section in ("inputs", "outputs") if isinstance(data.get(section), dict)
               for param in data[section].values() if isinstance(param, dict)
               for spec in param.values())


def current() -> OpCache | None:
    """The cache ``load_op`` uses, as the ``op_cache`` option says now (read on every load: it is one
    environment lookup, and a test or a node that changes it is obeyed at once)."""
    from ..options import OP_CACHE, resolve

    setting, _ = resolve(OP_CACHE)
    root = setting if isinstance(setting, Path) else None if setting is False else default_dir()
    return OpCache(root) if root is not None else None


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
