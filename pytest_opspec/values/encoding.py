"""Number and JSON text exactly as the reference runtime (Go) writes and reads it (SEMANTICS §2).

Coercion results are user-visible (a number interpolated into a command, an object written to a
file), so they must match byte for byte:

- ``format_number``: Go ``strconv.FormatFloat(x, 'f', -1, 64)``, the shortest decimal that
  round-trips, never with an exponent (``3``, ``0.1``, ``1000000000000000000000``).
- ``parse_number``: Go ``strconv.ParseFloat(s, 64)`` syntax (``1e3``, ``+5``, ``.5``, ``Inf``,
  ``NaN``, hex ``0x1p-2``, ``_`` digit separators where Go allows them; no surrounding space).
- ``marshal_json``: Go ``json.Marshal`` (sorted keys, no spaces, HTML-safe escapes, Go float text).
- ``unmarshal_json``: Go ``json.Unmarshal`` into an untyped value (numbers are doubles).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any


class NumberSyntaxError(ValueError):
    """Text that Go's ParseFloat rejects: ``str()`` says why, without repeating the text."""


def format_number(number: float) -> str:
    """Go ``FormatFloat(x, 'f', -1, 64)``."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    if abs(number) < 2**53 and float(number).is_integer():  # exact, and the usual case (a length, a count)
        return str(int(number)) if number or math.copysign(1.0, number) > 0 else "-0"
    from decimal import Decimal  # here: decimal takes a while to import

    # repr() gives the shortest digits that round-trip, like Go's -1 precision; only the layout
    # differs (Python switches to an exponent for large and small magnitudes).
    text = format(Decimal(repr(float(number))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


_SPECIAL_NUMBERS = {"inf": math.inf, "infinity": math.inf, "nan": math.nan}
_DECIMAL_DIGITS = frozenset("0123456789")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def parse_number(text: str) -> float:
    """Go ``strconv.ParseFloat(text, 64)``; raises NumberSyntaxError for what Go rejects,
    including values out of the double range (Go's ErrRange)."""
    special = _parse_special(text)
    if special is not None:
        return special
    if not _is_go_float_syntax(text):
        raise NumberSyntaxError("invalid syntax")
    digits = text.replace("_", "")
    unsigned = digits.lstrip("+-")
    try:
        if unsigned[:2] in ("0x", "0X"):
            number = float.fromhex(digits)
        else:
            number = float(digits)
    except OverflowError:
        raise NumberSyntaxError("value out of range") from None
    if math.isinf(number):
        raise NumberSyntaxError("value out of range")
    return number


def _parse_special(text: str) -> float | None:
    if not text.isascii():
        return None
    lowered = text.lower()
    sign = 1.0
    if lowered[:1] in ("+", "-"):
        sign = -1.0 if lowered[0] == "-" else 1.0
        lowered = lowered[1:]
        # Go accepts a sign on infinities only, not on NaN.
        if lowered == "nan":
            return None
    value = _SPECIAL_NUMBERS.get(lowered)
    if value is None:
        return None
    return value if math.isnan(value) else sign * value


def _is_go_float_syntax(text: str) -> bool:
    """The syntax Go's ParseFloat reads: ``[+-] mantissa [exponent]``, where a ``0x`` mantissa
    needs a ``p`` exponent, and ``_`` may only separate digits (or follow the base prefix)."""
    i, end = 0, len(text)
    if i < end and text[i] in "+-":
        i += 1
    hexadecimal = text[i : i + 2] in ("0x", "0X") and i + 2 < end
    if hexadecimal:
        i += 2
    digits = _HEX_DIGITS if hexadecimal else _DECIMAL_DIGITS
    saw_digits = saw_dot = False
    while i < end:
        char = text[i]
        if char == ".":
            if saw_dot:
                break
            saw_dot = True
        elif char in digits:
            saw_digits = True
        elif char != "_":
            break
        i += 1
    if not saw_digits:
        return False
    exponent_mark = "p" if hexadecimal else "e"
    if i < end and text[i].lower() == exponent_mark:
        i += 1
        if i < end and text[i] in "+-":
            i += 1
        if i >= end or text[i] not in _DECIMAL_DIGITS:
            return False
        while i < end and (text[i] in _DECIMAL_DIGITS or text[i] == "_"):
            i += 1
    elif hexadecimal:
        return False
    if i != end:
        return False
    return "_" not in text or _underscores_ok(text)


def _underscores_ok(text: str) -> bool:
    """Go's rule: an underscore must sit between two digits, or between a base prefix and a digit."""
    if text[:1] in ("+", "-"):
        text = text[1:]
    previous = "start"  # start | digit | underscore | other
    i = 0
    hexadecimal = False
    if len(text) >= 2 and text[0] == "0" and text[1] in "bBoOxX":
        i = 2
        previous = "digit"  # the base prefix counts as a digit here
        hexadecimal = text[1] in "xX"
    for char in text[i:]:
        if char in _DECIMAL_DIGITS or (hexadecimal and char in _HEX_DIGITS):
            previous = "digit"
        elif char == "_":
            if previous != "digit":
                return False
            previous = "underscore"
        else:
            if previous == "underscore":
                return False
            previous = "other"
    return previous != "underscore"


# ---------------------------------------------------------------------------------------------
# JSON


class JSONError(ValueError):
    """Data that cannot be written as JSON, or text that is not JSON, the way Go sees it."""


def format_json_number(number: float) -> str:
    """A double as Go's encoder writes it: plain decimal, or an exponent (``1e+21``, ``1e-7``)
    when the magnitude is at least 1e21 or below 1e-6."""
    if not math.isfinite(number):
        raise JSONError(f"unsupported value: {format_number(number)}")
    magnitude = abs(number)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        # In that range repr() already uses Go's 'e' layout: shortest digits, two-digit exponent.
        text = repr(float(number))
        mantissa, exponent = text.split("e")
        if exponent.startswith("-0"):
            # Go's encoder trims one leading zero of a negative two-digit exponent: e-07 -> e-7.
            exponent = "-" + exponent[2:]
        return f"{mantissa}e{exponent}"
    return format_number(number)


_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029\ud800-\udfff]')


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    escaped = _JSON_ESCAPES.get(char)
    if escaped is not None:
        return escaped
    if "\ud800" <= char <= "\udfff":
        # A lone surrogate is not valid UTF-8; Go writes the replacement character for it.
        return "\ufffd"
    return f"\\u{ord(char):04x}"


def _quote(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, text) + '"'


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (int, float)):
        return format_number(float(key))
    if key is None:
        return "null"
    raise JSONError(f"unsupported map key type {type(key).__name__}")


def marshal_json(data: Any) -> str:
    """Compact JSON as Go's ``json.Marshal`` writes it; raises JSONError for NaN/Inf and
    non-JSON data."""
    parts: list[str] = []
    try:
        _marshal_into(data, parts)
    except RecursionError:
        raise JSONError("data is nested too deeply") from None
    return "".join(parts)


def _marshal_into(data: Any, parts: list[str]) -> None:
    if data is None:
        parts.append("null")
    elif data is True:
        parts.append("true")
    elif data is False:
        parts.append("false")
    elif isinstance(data, str):
        parts.append(_quote(data))
    elif isinstance(data, (int, float)):
        try:
            number = float(data)
        except OverflowError:
            raise JSONError(f"unsupported value: {data}") from None
        parts.append(format_json_number(number))
    elif isinstance(data, (list, tuple)):
        parts.append("[")
        for index, item in enumerate(data):
            if index:
                parts.append(",")
            _marshal_into(item, parts)
        parts.append("]")
    elif isinstance(data, dict):
        items = sorted((_key_text(key), value) for key, value in data.items())
        parts.append("{")
        for index, (key, value) in enumerate(items):
            if index:
                parts.append(",")
            parts.append(_quote(key))
            parts.append(":")
            _marshal_into(value, parts)
        parts.append("}")
    else:
        raise JSONError(f"unsupported type {type(data).__name__}")


# Integers beyond 2**53 are not exact doubles; Go decodes every number as a double.
_EXACT_INT_LIMIT = 2**53


def _parse_json_int(text: str) -> int | float:
    number = int(text)
    if number == 0 and text.startswith("-"):
        return -0.0  # a double keeps the sign of zero
    if abs(number) <= _EXACT_INT_LIMIT:
        return number
    return _parse_json_float(text)


def _parse_json_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise JSONError(f"number {text} is out of the range of a double")
    return number


def _reject_constant(name: str) -> Any:
    raise JSONError(f"{name} is not valid JSON")


def unmarshal_json(text: str) -> Any:
    """Parse JSON the way Go's ``json.Unmarshal`` into ``interface{}`` accepts it: numbers are
    doubles (integral ones within 2**53 come back as ``int``), ``NaN``/``Infinity`` are rejected.
    Raises JSONError with a message that does not repeat the text."""
    try:
        return json.loads(
            text,
            parse_int=_parse_json_int,
            parse_float=_parse_json_float,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as error:
        raise JSONError(f"{error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise JSONError("JSON is nested too deeply") from None
