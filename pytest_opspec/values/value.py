"""The typed Value of opspec 0.1.5 and its API JSON encoding (SEMANTICS §2)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..errors import OpspecError


class ValueType(StrEnum):
    ARRAY = "array"
    DIR = "dir"
    FILE = "file"
    NUMBER = "number"
    OBJECT = "object"
    SOCKET = "socket"
    STRING = "string"


# The JSON type each Value type carries in the API encoding.
_JSON_TYPES: dict[ValueType, tuple[type, ...]] = {
    ValueType.ARRAY: (list,),
    ValueType.DIR: (str,),
    ValueType.FILE: (str,),
    ValueType.NUMBER: (int, float),
    ValueType.OBJECT: (dict,),
    ValueType.SOCKET: (str,),
    ValueType.STRING: (str,),
}


class ValueShapeError(OpspecError):
    """A JSON document is not a valid API Value."""


@dataclass(frozen=True, slots=True)
class Value:
    """One typed value. ``data`` is str, float, list or dict; dir/file data is an absolute host path."""

    type: ValueType
    data: Any

    @classmethod
    def string(cls, text: str) -> Value:
        return cls(ValueType.STRING, text)

    @classmethod
    def number(cls, number: float) -> Value:
        return cls(ValueType.NUMBER, float(number))

    @classmethod
    def array(cls, items: list[Any]) -> Value:
        return cls(ValueType.ARRAY, items)

    @classmethod
    def object(cls, mapping: dict[str, Any]) -> Value:
        return cls(ValueType.OBJECT, mapping)

    @classmethod
    def file(cls, path: str | Path) -> Value:
        return cls(ValueType.FILE, str(path))

    @classmethod
    def dir(cls, path: str | Path) -> Value:
        return cls(ValueType.DIR, str(path))

    @classmethod
    def socket(cls, address: str) -> Value:
        return cls(ValueType.SOCKET, address)

    def to_json(self) -> dict[str, Any]:
        """API encoding; always carries the type key, also for empty arrays and objects (§10.18)."""
        data = self.data
        if self.type is ValueType.NUMBER:
            data = json_number(data)
        return {self.type.value: data}

    @classmethod
    def from_json(cls, document: Any, where: str = "value") -> Value:
        """Decode an API Value; ``where`` names it in errors (e.g. ``args.name``).

        Unknown keys are ignored, as the reference does; exactly one type key must be present.
        """
        if not isinstance(document, dict):
            raise ValueShapeError(f"{where}: a Value must be a JSON object with one type key "
                                  f"({', '.join(t.value for t in ValueType)}), got {_json_kind(document)}")
        keys = [t for t in ValueType if t.value in document]
        if len(keys) != 1:
            found = ", ".join(k.value for k in keys) or "none"
            raise ValueShapeError(f"{where}: a Value must have exactly one type key "
                                  f"({', '.join(t.value for t in ValueType)}); found {found}")
        value_type = keys[0]
        data = document[value_type.value]
        expected = _JSON_TYPES[value_type]
        if isinstance(data, bool) or not isinstance(data, expected):
            raise ValueShapeError(f"{where}.{value_type.value}: expected a JSON "
                                  f"{_kind_name(expected)}, got {_json_kind(data)}")
        if value_type is ValueType.NUMBER:
            assert isinstance(data, (int, float))  # checked above
            data = float(data)
        return cls(value_type, data)

    def to_python(self) -> Any:
        """A plain Python value: str, int (for integral numbers) or float, list, dict, or Path."""
        if self.type is ValueType.NUMBER:
            return json_number(self.data)
        if self.type in (ValueType.DIR, ValueType.FILE):
            return Path(self.data)
        return self.data

    @classmethod
    def from_python(cls, obj: Any, where: str = "value") -> Value:
        """Build a Value from a Python value: str, int/float, list, dict, a Path (file or dir by
        what exists at it), or a Value (returned as is)."""
        if isinstance(obj, Value):
            return obj
        if isinstance(obj, bool):
            raise ValueShapeError(f"{where}: opspec 0.1.5 has no boolean type; pass a string or number")
        if isinstance(obj, str):
            return cls.string(obj)
        if isinstance(obj, (int, float)):
            return cls.number(obj)
        if isinstance(obj, (list, tuple)):
            return cls.array(list(obj))
        if isinstance(obj, dict):
            return cls.object(dict(obj))
        if isinstance(obj, Path):
            path = obj.resolve()
            return cls.dir(path) if path.is_dir() else cls.file(path)
        raise ValueShapeError(f"{where}: cannot make an opspec Value from {type(obj).__name__}")


def json_number(number: float) -> int | float:
    """Integral floats as ints, the way Go's encoder prints them (5.0 -> 5, 1e21 stays 1e+21)."""
    if isinstance(number, float) and math.isfinite(number) and number.is_integer() and abs(number) < 1e21:
        return int(number)
    return number


def _kind_name(types: tuple[type, ...]) -> str:
    return {list: "array", str: "string", dict: "object", int: "number"}[types[0]]


def _json_kind(obj: Any) -> str:
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "boolean"
    if isinstance(obj, (int, float)):
        return "number"
    if isinstance(obj, str):
        return "string"
    if isinstance(obj, list):
        return "array"
    if isinstance(obj, dict):
        return "object"
    return type(obj).__name__
