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
from . import load_op
from .types import Param
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


def args_for(manifest: Path, raw_args: Mapping[str, Any], cwd: Path) -> dict[str, Value]:
    """Args for the op at ``manifest``, typed by its inputs; Values pass as they are.

    An op.yml that does not load types nothing: the run itself then reports the broken op.yml, as a node
    would, instead of this raising.
    """
    if all(isinstance(raw, Value) for raw in raw_args.values()):
        return dict(raw_args)
    try:
        params = load_op(manifest).inputs
    except OpspecError:
        params = {}
    return typed_args(raw_args, params, cwd)


def is_value_document(raw: Any, param: Param | None) -> bool:
    """Whether a value read from a YAML/JSON document is an API Value (``{string: x}``) rather than plain.

    A one-key mapping whose key is a type name is a Value, except for an object input, where only
    ``{object: ...}`` is: ``{string: x}`` is then the plain object it looks like.
    """
    if not (isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ValueType.__members__.values()):
        return False
    return param is None or param.type is not ValueType.OBJECT or next(iter(raw)) == "object"


def document_arg(name: str, raw: Any, param: Param | None, cwd: Path, where: str) -> Value:
    """An arg from an args file or scenario scope: an API Value as it is, a plain value typed by its input.

    ``where`` names the arg in errors (e.g. ``--args-file name``).
    """
    if is_value_document(raw, param):
        try:
            value = Value.from_json(raw, where)
        except ValueShapeError as error:
            raise ArgError(str(error)) from None
        if value.type in (ValueType.DIR, ValueType.FILE):
            # `{file: fixtures/in.txt}` is relative to the document, as the plain `fixtures/in.txt` is.
            return Value(value.type, _path(value.data, cwd))
        return value
    return typed_arg(name, raw, param, cwd)


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
