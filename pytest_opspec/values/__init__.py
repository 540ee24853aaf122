"""Value types, coercion and constraints (SEMANTICS §2)."""

from .value import Value, ValueShapeError, ValueType

__all__ = ["Value", "ValueShapeError", "ValueType"]
