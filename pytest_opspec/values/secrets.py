"""Values of params declared ``isSecret``, and the one way everything we print or write masks them.

A ``Secrets`` collects the text forms of every secret value a run bound or produced, with the param
each belongs to. ``mask(text)`` replaces each by ``<secret:NAME>``: a stable placeholder (snapshots
stay the same from run to run) that says which param it was, never what it was.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Iterable, Mapping

from .value import Value, ValueType, json_number

# A secret file's content is masked too when it is text up to this size.
MAX_FILE_SECRET = 64 * 1024
# Items inside a secret object or array are masked from this length on (masking every "1" or "x" in
# all output would hide everything and protect nothing).
MIN_ITEM_LENGTH = 4


def placeholder(name: str) -> str:
    return f"<secret:{name}>"


class Secrets:
    """Secret texts by the param they belong to; thread-safe (a run adds while printers mask)."""

    def __init__(self, named: Mapping[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, str] = dict(named or {})  # secret text -> param name
        self._pattern: re.Pattern[str] | None = None

    def add(self, name: str, value: Value | None) -> None:
        """Remember ``value`` (given to or produced by the secret param ``name``)."""
        if value is None:
            return
        texts = [text for text in _texts(value) if text.strip()]
        if not texts:
            return
        with self._lock:
            for text in texts:
                self._names.setdefault(text, name)
            self._pattern = None

    def add_text(self, name: str, text: str) -> None:
        self.add(name, Value.string(text))

    def update(self, other: Secrets) -> None:
        with other._lock:
            named = dict(other._names)
        with self._lock:
            for text, name in named.items():
                self._names.setdefault(text, name)
            self._pattern = None

    @property
    def named(self) -> dict[str, str]:
        """Secret text -> param name."""
        with self._lock:
            return dict(self._names)

    def __bool__(self) -> bool:
        return bool(self._names)

    def __contains__(self, text: object) -> bool:
        return text in self._names

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced by its placeholder (longest secrets first)."""
        with self._lock:
            if not self._names:
                return text
            if self._pattern is None:
                self._pattern = re.compile("|".join(re.escape(t) for t in sorted(self._names, key=len, reverse=True)))
            pattern, names = self._pattern, self._names
        return pattern.sub(lambda match: placeholder(names[match.group()]), text)

    def mask_data(self, data: object) -> object:
        """Strings inside JSON-like data (keys too) masked."""
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, list):
            return [self.mask_data(item) for item in data]
        if isinstance(data, dict):
            return {self.mask(str(key)): self.mask_data(item) for key, item in data.items()}
        return data


def secrets_of(params: Mapping[str, object], values: Mapping[str, Value], into: Secrets | None = None) -> Secrets:
    """The values of the params declared ``isSecret`` (``params``: name -> Param)."""
    secrets = into if into is not None else Secrets()
    for name, value in values.items():
        param = params.get(name)
        if param is not None and getattr(param, "is_secret", False):
            secrets.add(name, value)
    return secrets


def _texts(value: Value) -> Iterable[str]:
    data = value.data
    if value.type is ValueType.STRING:
        yield data
        yield data.strip()
    elif value.type is ValueType.NUMBER:
        yield json.dumps(json_number(data))
    elif value.type in (ValueType.OBJECT, ValueType.ARRAY):
        yield json.dumps(data, separators=(",", ":"))
        yield json.dumps(data)
        yield from (leaf for leaf in _leaves(data) if len(leaf) >= MIN_ITEM_LENGTH)
    elif value.type is ValueType.FILE:
        yield from _file_text(Path(data))


def _leaves(data: object) -> Iterable[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        yield str(data)
    elif isinstance(data, list):
        for item in data:
            yield from _leaves(item)
    elif isinstance(data, dict):
        for item in data.values():
            yield from _leaves(item)


def _file_text(path: Path) -> Iterable[str]:
    try:
        if path.stat().st_size > MAX_FILE_SECRET:
            return
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return
    yield text
    yield text.strip()
