"""Binding an op call's inputs (SEMANTICS §3 "Inputs").

``bind_inputs`` computes the callee's initial scope from its declared params and the call's args:

1. Defaults: array, number, object and string defaults as they are; dir and file defaults only
   when they start with ``/`` (a path in the callee package). Relative dir/file defaults apply only
   when ``cwd`` is given (the command line resolves them against its working directory for the
   root op); otherwise they are ignored, as in the node.
2. Args override defaults. ``None`` or ``""`` binds implicitly: the caller's scope value of the same
   name, as it is. Anything else is evaluated to the param's type in the caller's scope, with
   ``$(/...)`` referring to the caller's package. Sockets bind only implicitly; a dir arg that is
   exactly a caller scope name binds that value (deprecated bare reference).
   For the root op (``implicit_root=True``) args are Values bound as they are (no evaluation, no
   coercion), as the node API does.
3. A declared input with neither an arg nor a default is an error (``<name>: param required``,
   §10.2), as is an arg for an undeclared input.
4. Every bound value is validated against its param (on a coerced copy).

All problems are collected and raised together as one InputsInvalidError; secret values never
appear in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import OpspecError
from ..expressions.evaluate import EvaluationError, evaluate, show_expression
from ..model.types import Expression, Param
from ..model.constraints import validate_value
from ..values.paths import go_join
from ..values.value import Value, ValueType

_PATH_TYPES = (ValueType.DIR, ValueType.FILE)


class InputsInvalidError(OpspecError):
    """The inputs of an op call could not be bound or are invalid.

    ``problems`` lists each problem (each naming its input); ``str()`` is the reference's message
    shape: ``"\\n-\\n  error(s) occurred interpreting call to <ref>:\\n\\n    - <p1>\\n ...\\n\\n-"``.
    """

    def __init__(self, callee_ref: str, problems: list[str]) -> None:
        self.callee_ref = callee_ref
        self.problems = list(problems)
        listing = "".join(f"\n    - {problem}" for problem in self.problems)
        super().__init__(f"\n-\n  error(s) occurred interpreting call to {callee_ref}:\n{listing}\n\n-")


class _BindError(Exception):
    """One arg that cannot be bound; the message names it."""


def bind_inputs(
    params: Mapping[str, Param],
    args: Mapping[str, Expression | Value | None],
    caller_scope: Mapping[str, Value],
    caller_pkg_dir: Path,
    callee_pkg_dir: Path,
    scratch_dir: Path,
    *,
    implicit_root: bool = False,
    cwd: Path | None = None,
    callee_ref: str | None = None,
) -> dict[str, Value]:
    """The callee's bound inputs; raises InputsInvalidError listing every problem.

    ``scratch_dir`` receives files created for file inputs. ``callee_ref`` names the callee in the
    error (default: ``callee_pkg_dir``).
    """
    problems: list[str] = []
    bound: dict[str, Value] = {}
    ignored_defaults: dict[str, str] = {}
    # Inputs already reported as broken, so they are not also reported as missing.
    failed: set[str] = set()
    # A root arg of None means "not given"; any other arg overrides the default.
    given = {name for name, arg in args.items() if not (implicit_root and arg is None)}
    for name, param in params.items():
        if name in given:
            continue
        try:
            default = default_value(param, callee_pkg_dir, cwd)
        except OverflowError:
            problems.append(f"{name}: its default {param.default} is out of the range of a double")
            failed.add(name)
            continue
        if default is not None:
            bound[name] = default
        elif param.has_default and param.type in _PATH_TYPES:
            ignored_defaults[name] = param.default

    for name, arg in args.items():
        declared = params.get(name)
        if declared is None:
            problems.append(f"unable to bind to '{name}'; '{name}' not a defined input")
            continue
        if implicit_root:
            if arg is None:
                continue  # not given: the default (or the required check) applies
            if not isinstance(arg, Value):
                raise TypeError(f"root op arg {name!r} must be a Value, not {type(arg).__name__}")
            bound[name] = arg
            continue
        try:
            bound[name] = _bind_arg(name, arg, declared, caller_scope, caller_pkg_dir, scratch_dir)
        except _BindError as error:
            problems.append(str(error))
            failed.add(name)

    for name in params:
        if name in bound or name in failed:
            continue
        if name in ignored_defaults:
            problems.append(
                f"{name}: param required (its default {ignored_defaults[name]!r} is relative; relative dir and "
                "file defaults apply only to the op run from the command line)"
            )
        else:
            problems.append(f"{name}: param required")

    for name, param in params.items():
        if name in bound:
            problems.extend(validate_value(bound[name], param))

    if problems:
        raise InputsInvalidError(callee_ref if callee_ref is not None else str(callee_pkg_dir), problems)
    return bound


def default_value(param: Param, callee_pkg_dir: Path, cwd: Path | None) -> Value | None:
    """A param's default as a Value; dir/file defaults starting with `/` are in the package, relative
    ones are relative to ``cwd`` (None when there is no cwd, as in a node)."""
    if not param.has_default or param.default is None:
        return None
    if param.type in _PATH_TYPES:
        default = str(param.default)
        if default.startswith("/"):
            path = go_join(str(callee_pkg_dir), default)
        elif cwd is not None:
            path = go_join(str(cwd), default)
        else:
            return None
        return Value(param.type, path)
    if param.type is ValueType.NUMBER:
        return Value.number(param.default)
    return Value(param.type, param.default)


def _bind_arg(
    name: str,
    arg: Expression | None,
    param: Param,
    caller_scope: Mapping[str, Value],
    caller_pkg_dir: Path,
    scratch_dir: Path,
) -> Value:
    if arg is None or arg == "":
        if name not in caller_scope:
            raise _BindError(f"unable to bind to '{name}' via implicit ref; '{name}' not in scope")
        return caller_scope[name]
    if param.type is ValueType.SOCKET:
        raise _BindError(f"unable to bind '{name}' to '{show_expression(arg)}'; sockets must be passed by reference")
    if param.type is ValueType.DIR:
        if isinstance(arg, str) and arg in caller_scope:
            return caller_scope[arg]  # deprecated: a bare scope name
        if not isinstance(arg, str):
            raise _BindError(
                f"unable to bind '{name}' to '{show_expression(arg)}'; a dir input takes a string expression"
            )
    try:
        return evaluate(arg, param.type, caller_scope, caller_pkg_dir, scratch_dir)
    except EvaluationError as error:
        reason = error.redacted if param.is_secret else str(error)
        raise _BindError(f"unable to bind '{name}' to '{show_expression(arg)}'; error was: '{reason}'") from None
