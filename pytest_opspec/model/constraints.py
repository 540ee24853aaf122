"""Validation of a Value against a declared param (SEMANTICS §2 "Validation").

A *coerced copy* of the value is checked; the value itself keeps its type. String, number, array
and object params apply their raw ``constraints`` dict with a real JSON-Schema draft-04
validator, as SEMANTICS §10.8 recommends: zero-valued keywords, nested ``format`` and
combinators, ``additionalProperties: false`` and ``dependencies`` all work, unlike in the
reference (see docs/compatibility.md). Dir, file and socket params check the value's type (and
for dirs and files that the path exists as one).

The checked JSON is the coerced value as the reference's Go JSON encoder writes it (so ``3.0`` is
the integer ``3``). ``pattern`` is a regular-expression *search*, with RE2's meaning of ``$``,
``\\z``, ``\\d``/``\\w``/``\\s``/``\\b`` and POSIX classes. ``multipleOf`` is exact (``0.3`` is a
multiple of ``0.1``). Formats are those of ``formats.py``.

Every message starts with the param's name (and the path inside the value, if any) (§10.22);
values of secret params are never shown.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .schema_check import Check, UnsupportedSchema, always_valid, compile_schema, draft4_meta_schema
from .types import Param
from ..values.coerce import CoercionError, coerce, json_kind
from ..values.encoding import JSONError, format_number, marshal_json, unmarshal_json
from ..values.formats import FORMAT_CHECKS
from ..values.value import Value, ValueType

if TYPE_CHECKING:
    from fractions import Fraction

    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

# How much of a (non-secret) value a message shows.
_SHOWN_LIMIT = 80


def validate_value(value: Value | None, param: Param) -> list[str]:
    """Every way ``value`` violates ``param``, each message prefixed with the param's name (and a
    path inside the value, e.g. ``config.servers[0]: ...``).

    An empty list means valid. ``None`` (no value at all) gives ``<name>: param required``.
    """
    if value is None:
        return [f"{param.name}: param required"]
    if param.type is ValueType.DIR:
        return _prefixed(param, _check_path(value, param, ValueType.DIR))
    if param.type is ValueType.FILE:
        return _prefixed(param, _check_path(value, param, ValueType.FILE))
    if param.type is ValueType.SOCKET:
        problems = (
            [] if value.type is ValueType.SOCKET else [f"socket required; got {_article(value.type.value)} value"]
        )
        return _prefixed(param, problems)
    return _check_json_value(value, param)


def _prefixed(param: Param, problems: list[str]) -> list[str]:
    return [f"{param.name}: {problem}" for problem in problems]


# ---------------------------------------------------------------------------------------------
# dir, file


def _check_path(value: Value, param: Param, kind: ValueType) -> list[str]:
    if value.type is not kind:
        return [f"{kind.value} required; got {_article(value.type.value)} value"]
    path = value.data
    shown = "the path" if param.is_secret else f"'{path}'"
    try:
        mode = os.stat(path).st_mode  # follows symlinks
    except FileNotFoundError:
        return [f"{kind.value} {shown} does not exist"]
    except OSError as error:
        return [f"cannot access {kind.value} {shown}: {error.strerror or error}"]
    if kind is ValueType.DIR and not stat.S_ISDIR(mode):
        return [f"{shown} is not a dir"]
    if kind is ValueType.FILE and not stat.S_ISREG(mode):
        return [f"{shown} is not a regular file"]
    return []


# ---------------------------------------------------------------------------------------------
# string, number, array, object


def _check_json_value(value: Value, param: Param) -> list[str]:
    try:
        coerced = coerce(value, param.type)
    except CoercionError as error:
        return [f"{param.name}: {error.redacted if param.is_secret else error}"]
    data = None if coerced is None else coerced.data
    return [
        f"{_location(param.name, path)}: {message}"
        for path, message in _violations(param.constraints, data, param.is_secret)
    ]


def constraint_errors(constraints: Mapping[str, Any] | None, data: Any, *, secret: bool = False) -> list[str]:
    """Every way JSON ``data`` violates the draft-04 ``constraints`` (opspec formats included).

    A violation inside the data starts with its path (``servers[0].port: ...``); ``secret`` keeps
    the data out of the messages.
    """
    return [
        f"{_location('', path)}: {message}" if path else message
        for path, message in _violations(constraints, data, secret)
    ]


def _violations(constraints: Mapping[str, Any] | None, data: Any, secret: bool) -> list[tuple[list[str | int], str]]:
    """(path in the data, message) for each violation."""
    if not constraints:
        return []
    try:
        # The JSON the reference validates: Go's encoding of the data.
        instance = unmarshal_json(marshal_json(data))
    except JSONError:
        shown = "the value" if secret else _shown(data)
        return [([], f"{shown} is not a JSON value, so it cannot be checked against the constraints")]
    try:
        constraints_json = marshal_json(constraints)
    except JSONError as error:
        return [([], f"invalid constraints: {error}")]
    compiled = _compiled_check(constraints_json)
    if compiled is not None and compiled(instance):
        return []  # valid, as most values are: jsonschema is only imported to say what is wrong
    validator = _validator_for(constraints_json)
    if isinstance(validator, str):
        return [([], validator)]
    from jsonschema.exceptions import SchemaError
    from referencing.exceptions import Unresolvable

    try:
        errors = list(validator.iter_errors(instance))
    except (SchemaError, Unresolvable) as error:
        return [([], f"invalid constraints: {error}")]
    return [(list(error.absolute_path), _describe(error, secret)) for error in errors]


@functools.lru_cache(maxsize=1024)
def _compiled_check(constraints_json: str) -> Check | None:
    """The yes/no check of one valid constraint set (schema_check.py), or None where only jsonschema can
    tell: constraints that are no valid draft-04 schema, or that use what schema_check does not handle."""
    constraints = unmarshal_json(constraints_json)
    if not _meta_check()(constraints):
        return None
    try:
        return compile_schema(constraints, compile_pattern=_re2_or_unsupported,
                              keywords={"format": _format_check, "multipleOf": _multiple_of_check})
    except UnsupportedSchema:
        return None


@functools.cache
def _meta_check() -> Check:
    return compile_schema(draft4_meta_schema())


def _re2_or_unsupported(pattern: str) -> re.Pattern[str]:
    compiled = _compile_re2(pattern)
    if isinstance(compiled, str):
        raise UnsupportedSchema(f"pattern {pattern!r}: {compiled}")
    return compiled


def _format_check(name: Any) -> Check:
    check = FORMAT_CHECKS.get(name)
    return always_valid if check is None else _format_applies(check)  # unknown formats pass


def _multiple_of_check(divisor: Any) -> Check:
    if isinstance(divisor, bool) or not isinstance(divisor, (int, float)) or divisor <= 0:
        raise UnsupportedSchema(f"multipleOf {divisor!r}")
    return lambda value: isinstance(value, bool) or not isinstance(value, (int, float)) or _is_multiple(value, divisor)


@functools.lru_cache(maxsize=1024)
def _validator_for(constraints_json: str) -> Validator | str:
    """A validator for one distinct constraint set (keyed by its canonical JSON), or the reason
    the constraints are not a valid draft-04 schema."""
    constraints = unmarshal_json(constraints_json)
    meta_validator, validator_class, format_checker = _draft4()
    meta_errors = sorted(meta_validator.iter_errors(constraints), key=lambda error: list(error.path))
    if meta_errors:
        error = meta_errors[0]
        where = "/".join(str(part) for part in error.path)
        return f"invalid constraints{f' at {where}' if where else ''}: {error.message}"
    return validator_class(constraints, format_checker=format_checker)


def _location(name: str, path: Iterable[str | int]) -> str:
    """``name`` plus a path into the value, e.g. ``config.servers[0]["a b"]``."""
    location = name
    for part in path:
        if isinstance(part, int):
            location += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            location += f".{part}" if location else part
        else:
            location += f"[{marshal_json(part)}]"
    return location


def _describe(error: ValidationError, secret: bool) -> str:
    """A message for one violation that never shows a secret value."""
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    got = "" if secret else f" (got {_shown(instance)})"
    if keyword in _OWN_MESSAGES:
        return error.message if not secret else getattr(error, "redacted_message", error.message)
    if keyword == "type":
        names = expected if isinstance(expected, list) else [expected]
        return f"must be of type {' or '.join(names)}, not {json_kind(instance)}"
    if keyword == "enum":
        return f"must be one of the following: {', '.join(marshal_json(item) for item in expected)}{got}"
    if keyword == "format":
        return f"does not match format '{expected}'{got}"
    if keyword == "minLength":
        return f"must be at least {_count(expected, 'character')} long{_length(instance, secret)}"
    if keyword == "maxLength":
        return f"must be at most {_count(expected, 'character')} long{_length(instance, secret)}"
    if keyword == "pattern":
        return f"must match the pattern '{expected}'{got}"
    if keyword == "minimum":
        relation = "greater than" if error.schema.get("exclusiveMinimum") else "greater than or equal to"
        return f"must be {relation} {_number(expected)}{got}"
    if keyword == "maximum":
        relation = "less than" if error.schema.get("exclusiveMaximum") else "less than or equal to"
        return f"must be {relation} {_number(expected)}{got}"
    if keyword == "multipleOf":
        return f"must be a multiple of {_number(expected)}{got}"
    if keyword == "minItems":
        return f"must have at least {_count(expected, 'item')}{_size(instance, secret)}"
    if keyword == "maxItems":
        return f"must have at most {_count(expected, 'item')}{_size(instance, secret)}"
    if keyword == "uniqueItems":
        return "items must be unique"
    if keyword == "additionalItems":
        allowed = len(error.schema.get("items", []))
        return f"must have at most {_count(allowed, 'item')}; additional items are not allowed"
    if keyword == "minProperties":
        return f"must have at least {_count(expected, 'property', 'properties')}{_size(instance, secret)}"
    if keyword == "maxProperties":
        return f"must have at most {_count(expected, 'property', 'properties')}{_size(instance, secret)}"
    if keyword == "not":
        return f"must not match the schema {marshal_json(expected)}{got}"
    if keyword in ("anyOf", "oneOf"):
        return _describe_alternatives(error, secret)
    return f"does not satisfy the '{keyword}' constraint"


def _describe_alternatives(error: ValidationError, secret: bool) -> str:
    if error.validator == "oneOf" and not error.context:
        return "must match exactly one of the 'oneOf' schemas, but matches more than one"
    quantity = "at least one" if error.validator == "anyOf" else "exactly one"
    reasons: list[str] = []
    for sub_error in error.context or []:
        reason = _describe(sub_error, secret)
        if sub_error.relative_path:
            reason = f"{_location('', sub_error.relative_path)}: {reason}"
        if reason not in reasons:
            reasons.append(reason)
    return f"must match {quantity} of the '{error.validator}' schemas, but matches none ({'; '.join(reasons)})"


def _count(number: Any, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def _length(instance: Any, secret: bool) -> str:
    return "" if secret or not isinstance(instance, str) else f" (got {len(instance)})"


def _size(instance: Any, secret: bool) -> str:
    if secret or not isinstance(instance, (list, dict)):
        return ""
    return f" (got {len(instance)})"


def _number(number: Any) -> str:
    return format_number(float(number)) if isinstance(number, (int, float)) else str(number)


def _shown(data: Any) -> str:
    try:
        text = marshal_json(data)
    except JSONError:
        text = format_number(data) if isinstance(data, float) else repr(data)
    return text if len(text) <= _SHOWN_LIMIT else text[:_SHOWN_LIMIT] + "…"


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


# ---------------------------------------------------------------------------------------------
# The draft-04 validator: RE2-flavoured patterns, exact multipleOf, and messages of our own for
# the keywords whose standard messages would show values.

# Keywords whose ValidationError.message is already ours (and safe unless redacted_message says
# otherwise).
_OWN_MESSAGES = frozenset({"required", "dependencies", "additionalProperties", "patternError"})


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    compiled = _compile_re2(pattern)
    if isinstance(compiled, str):
        yield _pattern_error(pattern, compiled)
    elif not compiled.search(instance):
        yield _error(f"does not match '{pattern}'")


def _pattern_properties(
    validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        compiled = _compile_re2(pattern)
        if isinstance(compiled, str):
            yield _pattern_error(pattern, compiled)
            continue
        for key, item in instance.items():
            if compiled.search(key):
                yield from validator.descend(item, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    patterns = [
        compiled for compiled in map(_compile_re2, schema.get("patternProperties", {})) if not isinstance(compiled, str)
    ]
    extras = [key for key in instance if key not in declared and not any(p.search(key) for p in patterns)]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif allowed is False and extras:
        names = ", ".join(f"'{extra}'" for extra in extras)
        noun = "property" if len(extras) == 1 else "properties"
        error = _error(f"additional {noun} {names} not allowed")
        error.redacted_message = "additional properties are not allowed"
        yield error


def _required(validator: Any, required: list[str], instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for name in required:
        if name not in instance:
            yield _error(f"property '{name}' is required")


def _dependencies(
    validator: Any, dependencies: Mapping[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for name, dependency in dependencies.items():
        if name not in instance:
            continue
        if validator.is_type(dependency, "array"):
            for needed in dependency:
                if needed not in instance:
                    yield _error(f"property '{needed}' is required when property '{name}' is present")
        else:
            yield from validator.descend(instance, dependency, schema_path=name)


def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "number"):
        return
    if not _is_multiple(instance, divisor):
        yield _error(f"is not a multiple of {divisor}")


def _is_multiple(number: int | float, divisor: int | float) -> bool:
    """Exact, on the numbers' decimal text, so that 0.3 is a multiple of 0.1."""
    return (_exact(number) / _exact(divisor)).denominator == 1


def _exact(number: int | float) -> Fraction:
    from fractions import Fraction  # here: only multipleOf needs it, and it takes a while to import

    return Fraction(number) if isinstance(number, int) else Fraction(repr(float(number)))


def _pattern_error(pattern: str, reason: str) -> ValidationError:
    error = _error(f"the constraint pattern '{pattern}' is not a valid regular expression: {reason}")
    error.validator = "patternError"
    return error


@functools.cache
def _draft4() -> tuple[Validator, Any, Any]:
    """The meta-schema validator, our draft-04 validator class and its format checker, built on first use:
    importing jsonschema is a large part of a start-up that checks no constraints."""
    import jsonschema

    validator_class = jsonschema.validators.extend(
        jsonschema.Draft4Validator,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
            "required": _required,
            "dependencies": _dependencies,
            "multipleOf": _multiple_of,
        },
    )
    format_checker = jsonschema.FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():
        format_checker.checks(name)(_format_applies(check))
    return jsonschema.Draft4Validator(jsonschema.Draft4Validator.META_SCHEMA), validator_class, format_checker


def _format_applies(check: Any) -> Any:
    """The reference checks formats on strings and numbers only; other JSON passes."""

    def checker(instance: Any) -> bool:
        if isinstance(instance, bool) or not isinstance(instance, (str, int, float)):
            return True
        return bool(check(instance))

    return checker


def _error(message: str) -> ValidationError:
    from jsonschema.exceptions import ValidationError

    return ValidationError(message)


# ---------------------------------------------------------------------------------------------
# RE2 patterns on Python's re

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_POSIX_CLASS = re.compile(r"\[:([a-z]+):\]")
_MULTILINE_FLAG = re.compile(r"\(\?[a-zA-Z]*m")


@functools.lru_cache(maxsize=1024)
def _compile_re2(pattern: str) -> re.Pattern[str] | str:
    """``pattern`` (RE2 syntax) compiled for Python's ``re``, or why it cannot be."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # FutureWarnings about set syntax
            return re.compile(_translate_re2(pattern), re.ASCII)
    except re.error as error:
        return str(error)


def _translate_re2(pattern: str) -> str:
    """Rewrite the RE2 constructs whose meaning differs in Python: outside a class, ``$`` and
    ``\\z`` match only at the very end of the text (Python's ``$`` also matches before a final
    newline); inside a class, POSIX classes such as ``[:alpha:]`` are expanded."""
    multiline = _MULTILINE_FLAG.search(pattern) is not None
    out: list[str] = []
    index, end, in_class = 0, len(pattern), False
    while index < end:
        char = pattern[index]
        if char == "\\" and index + 1 < end:
            escape = pattern[index : index + 2]
            out.append("\\Z" if escape == "\\z" and not in_class else escape)
            index += 2
            continue
        if in_class:
            posix = _POSIX_CLASS.match(pattern, index)
            if posix is not None and posix.group(1) in _POSIX_CLASSES:
                out.append(_POSIX_CLASSES[posix.group(1)])
                index = posix.end()
                continue
            if char == "]":
                in_class = False
            out.append(char)
            index += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            index += 1
            if index < end and pattern[index] == "^":
                out.append("^")
                index += 1
            if index < end and pattern[index] == "]":
                out.append("\\]")  # a "]" right after "[" or "[^" is a literal
                index += 1
            continue
        out.append("\\Z" if char == "$" and not multiline else char)
        index += 1
    return "".join(out)
