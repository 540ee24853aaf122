"""Typed evaluation of expressions (SEMANTICS §4 "Typed evaluation").

An expression is the raw YAML value from op.yml: str, int/float, list or dict. Each ``to_*``
function evaluates one against a scope and returns a Value of that type:

- A literal of the target type is used as is; string targets also accept number, array and
  object literals (coerced).
- A string that is exactly ``$(name)`` with ``name`` in scope is a *whole-value reference*: the
  Value itself is coerced (``$(obj)`` passes an object, ``$(f)`` the same file path).
- Any other string is interpolated, then coerced (parsed) to the target.
- Files and dirs also accept package paths and dir sub-paths, including deprecated forms; see
  ``to_file`` and ``to_dir``.

Divergences from the reference, as SEMANTICS §10 recommends (see docs/compatibility.md):
dir package references join the package's local dir, not its ref (§10.6), and a dir expression
``$(x)/y`` whose ``x`` is not a dir in scope is an error instead of the host path ``/y`` (§10.7).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import OpspecError
from ..values.coerce import (
    CoercionError,
    coerce_to_array,
    coerce_to_file,
    coerce_to_number,
    coerce_to_object,
    coerce_to_string,
)
from ..values.encoding import JSONError, marshal_json
from ..values.paths import go_join
from ..values.value import Value, ValueType
from .interpolate import REF_CLOSER, REF_START, InterpolationError, interpolate

Scope = Mapping[str, Value]

# A scope name that can be an output of a container file/dir mount (§10.4).
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.\-]+")


class EvaluationError(OpspecError):
    """An expression cannot be evaluated to the requested type.

    ``redacted`` says the same without any value (for secret params).
    """

    def __init__(self, message: str, redacted: str | None = None) -> None:
        super().__init__(message)
        self.redacted = redacted if redacted is not None else message


def is_whole_reference(expression: Any) -> bool:
    """Whether ``expression`` is exactly ``$(identifier)``."""
    return _whole_reference_name(expression) is not None


def reference_name(expression: Any) -> str | None:
    """The scope name a container file/dir mount reads and writes back (§10.4): the identifier of
    exactly ``$(identifier)``, or a bare identifier; None for anything else (``$(/path)``,
    ``$(d)/x``, ``""``, literals)."""
    name = _whole_reference_name(expression)
    if name is not None:
        return name
    if isinstance(expression, str) and _IDENTIFIER.fullmatch(expression):
        return expression
    return None


def _whole_reference_name(expression: Any) -> str | None:
    if isinstance(expression, str) and expression.startswith(REF_START) and expression.endswith(REF_CLOSER):
        inner = expression[len(REF_START) : -len(REF_CLOSER)]
        if _IDENTIFIER.fullmatch(inner):
            return inner
    return None


def show_expression(expression: Any) -> str:
    """An expression as op.yml would show it (strings as they are, other literals as JSON)."""
    if isinstance(expression, str):
        return expression
    try:
        return marshal_json(expression)
    except JSONError:
        return repr(expression)


def evaluate(expression: Any, target: ValueType, scope: Scope, pkg_dir: Path, scratch_dir: Path | None = None) -> Value:
    """Evaluate ``expression`` to ``target`` (sockets cannot be evaluated; they are only bound by
    reference). ``scratch_dir`` receives new files and is required for file targets."""
    if target is ValueType.STRING:
        return to_string(expression, scope, pkg_dir)
    if target is ValueType.NUMBER:
        return to_number(expression, scope, pkg_dir)
    if target is ValueType.ARRAY:
        return to_array(expression, scope, pkg_dir)
    if target is ValueType.OBJECT:
        return to_object(expression, scope, pkg_dir)
    if target is ValueType.DIR:
        return to_dir(expression, scope, pkg_dir)
    if target is ValueType.FILE:
        if scratch_dir is None:
            raise ValueError("evaluating to a file needs a scratch dir for new files")
        return to_file(expression, scope, pkg_dir, scratch_dir)
    raise EvaluationError(
        f"unable to evaluate {show_expression(expression)} to {target.value}; sockets are bound by reference only"
    )


def to_string(expression: Any, scope: Scope, pkg_dir: Path) -> Value:
    if _is_number(expression):
        return coerce_to_string(_literal_number(expression))
    if isinstance(expression, dict):
        return _coerced(coerce_to_string, Value.object(expression))
    if isinstance(expression, list):
        return _coerced(coerce_to_string, Value.array(expression))
    if isinstance(expression, str):
        return _coerced(coerce_to_string, _reference_or_interpolation(expression, scope, pkg_dir))
    raise _unsupported(expression, ValueType.STRING)


def to_number(expression: Any, scope: Scope, pkg_dir: Path) -> Value:
    if _is_number(expression):
        return _literal_number(expression)
    if isinstance(expression, str):
        return _coerced(coerce_to_number, _reference_or_interpolation(expression, scope, pkg_dir))
    raise _unsupported(expression, ValueType.NUMBER)


def to_array(expression: Any, scope: Scope, pkg_dir: Path) -> Value:
    if isinstance(expression, list):
        return Value.array(expression)
    if isinstance(expression, str):
        value = _coerced(coerce_to_array, _reference_or_interpolation(expression, scope, pkg_dir))
        return _present(value, expression, ValueType.ARRAY)
    raise _unsupported(expression, ValueType.ARRAY)


def to_object(expression: Any, scope: Scope, pkg_dir: Path) -> Value:
    if isinstance(expression, dict):
        return Value.object(expression)
    if isinstance(expression, str):
        value = _coerced(coerce_to_object, _reference_or_interpolation(expression, scope, pkg_dir))
        return _present(value, expression, ValueType.OBJECT)
    raise _unsupported(expression, ValueType.OBJECT)


def to_file(expression: Any, scope: Scope, pkg_dir: Path, scratch_dir: Path) -> Value:
    """Evaluate to a file. Literals become new files in ``scratch_dir``. A string is, in order:

    1. exactly ``$(name)`` with ``name`` in scope: that value coerced to a file;
    2. ``/path`` (deprecated package path): the path in the package;
    3. ``$(/path)`` and nothing after it: the path in the package (not a copy);
       ``$(d)/sub`` (deprecated) or ``$(d/sub)`` with ``d`` a dir in scope: the path in that dir;
    4. anything else: a new file holding the interpolated text.
    """
    if _is_number(expression):
        return _coerced(coerce_to_file, _literal_number(expression), scratch_dir)
    if isinstance(expression, dict):
        return _coerced(coerce_to_file, Value.object(expression), scratch_dir)
    if isinstance(expression, list):
        return _coerced(coerce_to_file, Value.array(expression), scratch_dir)
    if not isinstance(expression, str):
        raise _unsupported(expression, ValueType.FILE)

    name = _scope_reference(expression, scope)
    if name is not None:
        return _coerced(coerce_to_file, scope[name], scratch_dir)
    if expression.startswith("/"):
        path = _interpolate_part(expression, scope, pkg_dir, f"unable to evaluate {expression} to file")
        return Value.file(go_join(str(pkg_dir), path))
    closer = expression.find(REF_CLOSER)
    if expression.startswith(REF_START) and closer > 0:
        ref = expression[len(REF_START) : closer]
        rest = expression[closer + 1 :]
        if ref.startswith("/") and not rest:
            path = _interpolate_part(ref, scope, pkg_dir, f"unable to evaluate pkg fs ref {ref}")
            return Value.file(go_join(str(pkg_dir), path))
        located = _path_in_scope_dir(ref, rest, scope, pkg_dir)
        if located is not None:
            return Value.file(located)
    text = _interpolate_part(expression, scope, pkg_dir, f"unable to evaluate {expression} to file")
    return _coerced(coerce_to_file, Value.string(text), scratch_dir)


def to_dir(expression: Any, scope: Scope, pkg_dir: Path) -> Value:
    """Evaluate to a dir. Only strings are accepted; in order:

    1. exactly ``$(name)`` with a dir ``name`` in scope: that dir;
    2. ``/path`` (deprecated package path): the path in the package's local dir;
    3. ``$(/path)`` plus optional trailing text: the path in the package's local dir;
       ``$(d)/sub`` (deprecated) or ``$(d/sub)`` with ``d`` a dir in scope: the path in that dir;
       ``$(x)`` where ``x`` is not a dir in scope: the empty dir marker ``""`` (a container mount
       of it starts empty); with trailing text (``$(x)/y``) it is an error (§10.7);
    4. anything else: an error.
    """
    if not isinstance(expression, str):
        raise EvaluationError(
            f"unable to evaluate {show_expression(expression)} to dir; a dir expression must be a string"
        )
    name = _scope_reference(expression, scope)
    whole = None if name is None else scope[name]
    if whole is not None and whole.type is ValueType.DIR:
        return whole
    if expression.startswith("/"):
        path = _interpolate_part(expression, scope, pkg_dir, f"unable to evaluate {expression} to dir")
        return Value.dir(go_join(str(pkg_dir), path))
    closer = expression.find(REF_CLOSER)
    if expression.startswith(REF_START) and closer > 0:
        ref = expression[len(REF_START) : closer]
        rest = expression[closer + 1 :]
        if ref.startswith("/"):
            path = _interpolate_part(ref, scope, pkg_dir, f"unable to evaluate pkg fs ref {ref}")
            base = go_join(str(pkg_dir), path)
            if rest:
                base = go_join(base, _interpolate_part(rest, scope, pkg_dir, f"unable to evaluate path {rest}"))
            return Value.dir(base)
        located = _path_in_scope_dir(ref, rest, scope, pkg_dir)
        if located is not None:
            return Value.dir(located)
        if rest:
            raise EvaluationError(
                f"unable to evaluate {expression} to dir; {_not_a_dir_reason(ref, scope)}, so there is "
                f"no dir to find {rest!r} in"
            )
        return Value.dir("")
    raise EvaluationError(
        f"unable to evaluate {expression} to dir; expected $(name), $(name/sub/path), $(/pkg/path) or /pkg/path"
    )


# ---------------------------------------------------------------------------------------------


def _scope_reference(expression: str, scope: Scope) -> str | None:
    """The name of a whole-value reference: ``$(name)`` with exactly ``name`` in scope."""
    if expression.startswith(REF_START) and expression.endswith(REF_CLOSER):
        name = expression[len(REF_START) : -len(REF_CLOSER)]
        if name in scope:
            return name
    return None


def _reference_or_interpolation(expression: str, scope: Scope, pkg_dir: Path) -> Value | None:
    """The scope Value for a whole-value reference, else the interpolated string."""
    name = _scope_reference(expression, scope)
    if name is not None:
        return scope[name]
    try:
        return Value.string(interpolate(expression, scope, pkg_dir))
    except InterpolationError as error:
        raise EvaluationError(str(error), error.redacted) from None


def _path_in_scope_dir(ref: str, rest: str, scope: Scope, pkg_dir: Path) -> str | None:
    """``$(d)rest`` (deprecated: ``rest`` is a path in dir ``d``) or ``$(d/sub)`` (``rest`` is
    ignored, as in the reference); None when ``d`` is not a dir in scope."""
    value = scope.get(ref)
    if value is not None and value.type is ValueType.DIR:
        return go_join(value.data, _interpolate_part(rest, scope, pkg_dir, f"unable to evaluate path {rest}"))
    name, _, sub_path = ref.partition("/")
    value = scope.get(name)
    if sub_path and value is not None and value.type is ValueType.DIR:
        return go_join(value.data, _interpolate_part(sub_path, scope, pkg_dir, f"unable to evaluate path {sub_path}"))
    return None


def _interpolate_part(text: str, scope: Scope, pkg_dir: Path, context: str) -> str:
    try:
        return interpolate(text, scope, pkg_dir)
    except InterpolationError as error:
        raise EvaluationError(f"{context}; error was {error}", f"{context}; error was {error.redacted}") from None


def _not_a_dir_reason(ref: str, scope: Scope) -> str:
    value = scope.get(ref)
    if ref not in scope:
        return f"'{ref}' is not in scope"
    if value is None:
        return f"'{ref}' has no value"
    return f"'{ref}' is a {value.type.value}, not a dir"


def _coerced(coercion: Callable[..., Any], value: Value | None, *args: Any) -> Any:
    try:
        return coercion(value, *args)
    except CoercionError as error:
        raise EvaluationError(str(error), error.redacted) from None


def _present(value: Value | None, expression: str, target: ValueType) -> Value:
    if value is None:
        raise EvaluationError(f"unable to evaluate {expression} to {target.value}; it evaluates to JSON null")
    return value


def _literal_number(expression: int | float) -> Value:
    try:
        return Value.number(expression)
    except OverflowError:
        raise EvaluationError(
            f"unable to evaluate {expression} to number; it is out of the range of a double"
        ) from None


def _is_number(expression: Any) -> bool:
    return isinstance(expression, (int, float)) and not isinstance(expression, bool)


def _unsupported(expression: Any, target: ValueType) -> EvaluationError:
    return EvaluationError(f"unable to evaluate {show_expression(expression)} to {target.value}; unsupported type")
