"""Turning user-supplied args (Python values, or text from a command line) into typed Values.

The root op binds args as they are (SEMANTICS §3), so a plain string for a file input would fail
validation. People write paths and numbers as text, so both forms are typed here by the input they
are for: dir/file args become absolute host paths (relative to ``cwd``), number text is parsed, object
and array text is JSON.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from ..errors import OpspecError
from ..model.types import Param
from ..values import Value, ValueShapeError, ValueType


class ArgError(OpspecError):
    pass


def _path(text: str | os.PathLike[str], cwd: Path) -> str:
    return str((cwd / Path(text)).resolve()) if not Path(text).is_absolute() else str(Path(text))


def typed_arg(name: str, raw: Any, param: Param | None, cwd: Path) -> Value:
    """One Python value (or Value) as the Value the input ``param`` expects."""
    if isinstance(raw, Value):
        return raw
    where = f"arg {name!r}"
    if param is not None and isinstance(raw, (str, os.PathLike)):
        if param.type is ValueType.DIR:
            return Value.dir(_path(raw, cwd))
        if param.type is ValueType.FILE:
            return Value.file(_path(raw, cwd))
        if param.type is ValueType.SOCKET:
            return Value.socket(str(raw))
    if isinstance(raw, os.PathLike):
        raw = Path(_path(raw, cwd))
    try:
        return Value.from_python(raw, where)
    except ValueShapeError as error:
        raise ArgError(str(error)) from None


def typed_args(raw_args: Mapping[str, Any], params: Mapping[str, Param], cwd: Path) -> dict[str, Value]:
    return {name: typed_arg(name, raw, params.get(name), cwd) for name, raw in raw_args.items()}


def parse_text_arg(name: str, text: str, param: Param | None, cwd: Path) -> Value:
    """A command-line arg (``-a name=value``) typed by its input: numbers parsed, JSON for object/array."""
    if param is None or param.type is ValueType.STRING:
        return Value.string(text)
    if param.type is ValueType.NUMBER:
        try:
            return Value.number(float(text))
        except ValueError:
            raise ArgError(f"arg {name!r}: {text!r} is not a number") from None
    if param.type in (ValueType.OBJECT, ValueType.ARRAY):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ArgError(f"arg {name!r}: not valid JSON for an {param.type} input ({error.msg})") from None
        expected = dict if param.type is ValueType.OBJECT else list
        if not isinstance(data, expected):
            raise ArgError(f"arg {name!r}: expected a JSON {param.type}")
        return Value(param.type, data)
    return typed_arg(name, text, param, cwd)
