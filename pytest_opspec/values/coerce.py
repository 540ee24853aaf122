"""Coercion between Value types (SEMANTICS §2 "Coercion").

| from \\ to | string            | number        | array          | object          | file             |
|-----------|-------------------|---------------|----------------|-----------------|------------------|
| string    | itself            | Go ParseFloat | JSON array     | JSON object     | new file (text)  |
| number    | Go 'f' decimal    | itself        | error          | error           | new file (text)  |
| array     | compact Go JSON   | error         | itself         | error           | new file (JSON)  |
| object    | compact Go JSON   | error         | error          | itself          | new file (JSON)  |
| file      | contents          | parse contents| JSON contents  | JSON contents   | itself           |
| dir,socket| error             | error         | error          | error           | error            |
| absent    | ""                | 0             | absent         | absent          | new empty file   |

Nothing coerces to dir or socket (a dir or socket Value is only ever itself). JSON ``null`` read as
an array or object is "absent" (``None``), as in the reference.

Every error carries a ``redacted`` variant without the value, for secret params.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import OpspecError
from .encoding import (
    JSONError,
    NumberSyntaxError,
    format_number,
    marshal_json,
    parse_number,
    unmarshal_json,
)
from .value import Value, ValueType

# How much of a string value an error message shows.
_SHOWN_TEXT_LIMIT = 64


class CoercionError(OpspecError):
    """A value cannot be coerced to the requested type.

    ``str(error)`` may show the value; ``redacted`` says the same without it.
    """

    def __init__(self, message: str, redacted: str | None = None) -> None:
        super().__init__(message)
        self.redacted = redacted if redacted is not None else message


def coerce(value: Value | None, target: ValueType, scratch_dir: Path | None = None) -> Value | None:
    """Coerce ``value`` to ``target``; ``scratch_dir`` is needed for file targets."""
    if target is ValueType.STRING:
        return coerce_to_string(value)
    if target is ValueType.NUMBER:
        return coerce_to_number(value)
    if target is ValueType.ARRAY:
        return coerce_to_array(value)
    if target is ValueType.OBJECT:
        return coerce_to_object(value)
    if target is ValueType.FILE:
        if scratch_dir is None:
            raise ValueError("coercing to a file needs a scratch dir for new files")
        return coerce_to_file(value, scratch_dir)
    if value is not None and value.type is target:
        return value
    raise _incompatible(value, target, f"nothing can be coerced to a {target.value}")


def coerce_to_string(value: Value | None) -> Value:
    if value is None:
        return Value.string("")
    if value.type is ValueType.STRING:
        return value
    if value.type is ValueType.NUMBER:
        return Value.string(format_number(float(value.data)))
    if value.type in (ValueType.ARRAY, ValueType.OBJECT):
        return Value.string(_marshal(value, ValueType.STRING))
    if value.type is ValueType.FILE:
        return Value.string(_read_file(value, ValueType.STRING))
    raise _incompatible(value, ValueType.STRING)


def coerce_to_number(value: Value | None) -> Value:
    if value is None:
        return Value.number(0.0)
    if value.type is ValueType.NUMBER:
        return value
    if value.type is ValueType.STRING:
        return Value.number(_parse_number(value.data, value))
    if value.type is ValueType.FILE:
        # No trimming, as in the reference: a file holding "5\n" is not a number.
        return Value.number(_parse_number(_read_file(value, ValueType.NUMBER), value))
    raise _incompatible(value, ValueType.NUMBER)


def coerce_to_array(value: Value | None) -> Value | None:
    """An array Value, or None for an absent value or JSON ``null``."""
    return _coerce_to_json_container(value, ValueType.ARRAY, list)


def coerce_to_object(value: Value | None) -> Value | None:
    """An object Value, or None for an absent value or JSON ``null``."""
    return _coerce_to_json_container(value, ValueType.OBJECT, dict)


def coerce_to_file(value: Value | None, scratch_dir: Path) -> Value:
    """A file Value; anything but a file (or dir/socket, which fail) is written to a new file
    ``<scratch_dir>/<32 hex>``."""
    if value is None:
        content = ""
    elif value.type is ValueType.FILE:
        return value
    elif value.type is ValueType.STRING:
        content = value.data
    elif value.type is ValueType.NUMBER:
        content = format_number(float(value.data))
    elif value.type in (ValueType.ARRAY, ValueType.OBJECT):
        content = _marshal(value, ValueType.FILE)
    else:
        raise _incompatible(value, ValueType.FILE)
    return Value.file(write_new_file(scratch_dir, content, value))


def write_new_file(scratch_dir: Path, content: str, source: Value | None = None) -> Path:
    """Write ``content`` (UTF-8) to a new file ``<scratch_dir>/<32 hex>``, mode 0666 minus umask,
    creating ``scratch_dir`` when missing."""
    path = Path(scratch_dir) / os.urandom(16).hex()
    try:
        Path(scratch_dir).mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content.encode("utf-8", "replace"))
    except OSError as error:
        what = _type_name(source)
        raise CoercionError(
            f"unable to coerce {what} to file; cannot write {str(path)!r}: {_os_reason(error)}"
        ) from None
    return path


def read_text(path: str | Path) -> str:
    """A file's contents as text; bytes that are not UTF-8 become U+FFFD. Raises OSError."""
    return Path(path).read_bytes().decode("utf-8", "replace")


def json_kind(data: Any) -> str:
    """The JSON type name of Python data."""
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "boolean"
    if isinstance(data, (int, float)):
        return "number"
    if isinstance(data, str):
        return "string"
    if isinstance(data, (list, tuple)):
        return "array"
    if isinstance(data, dict):
        return "object"
    return type(data).__name__


# ---------------------------------------------------------------------------------------------


def _coerce_to_json_container(value: Value | None, target: ValueType, kind: type) -> Value | None:
    if value is None:
        return None
    if value.type is target:
        return value
    if value.type is ValueType.STRING:
        text = value.data
    elif value.type is ValueType.FILE:
        text = _read_file(value, target)
    else:
        raise _incompatible(value, target)
    try:
        data = unmarshal_json(text)
    except JSONError as error:
        raise _failed(value, target, f"not valid JSON: {error}") from None
    if data is None:
        return None
    if not isinstance(data, kind):
        raise _failed(value, target, f"the JSON is {_article(json_kind(data))}, not {_article(target.value)}")
    return Value(target, data)


def _parse_number(text: str, source: Value) -> float:
    try:
        return parse_number(text)
    except NumberSyntaxError as error:
        raise _failed(source, ValueType.NUMBER, str(error)) from None


def _marshal(value: Value, target: ValueType) -> str:
    try:
        return marshal_json(value.data)
    except JSONError as error:
        raise _failed(value, target, f"it cannot be written as JSON: {error}") from None


def _read_file(value: Value, target: ValueType) -> str:
    try:
        return read_text(value.data)
    except OSError as error:
        raise _failed(value, target, f"cannot read it: {_os_reason(error)}") from None


def _failed(value: Value, target: ValueType, reason: str) -> CoercionError:
    return CoercionError(
        f"unable to coerce {_describe(value)} to {target.value}; {reason}",
        f"unable to coerce {_type_name(value)} to {target.value}; {reason}",
    )


def _incompatible(value: Value | None, target: ValueType, reason: str = "incompatible types") -> CoercionError:
    return CoercionError(
        f"unable to coerce {_describe(value)} to {target.value}; {reason}",
        f"unable to coerce {_type_name(value)} to {target.value}; {reason}",
    )


def _type_name(value: Value | None) -> str:
    return "an absent value" if value is None else value.type.value


def _describe(value: Value | None) -> str:
    """The value's type, with the value itself when it is short enough to be useful."""
    if value is None:
        return "an absent value"
    if value.type is ValueType.NUMBER:
        return f"number '{format_number(float(value.data))}'"
    if value.type in (ValueType.DIR, ValueType.FILE, ValueType.SOCKET):
        return f"{value.type.value} '{value.data}'"
    if value.type is ValueType.STRING:
        text = value.data
        if len(text) > _SHOWN_TEXT_LIMIT:
            text = text[:_SHOWN_TEXT_LIMIT] + "…"
        return f"string {text!r}"
    return value.type.value


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _os_reason(error: OSError) -> str:
    return error.strerror or str(error)
