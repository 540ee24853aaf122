"""Go-compatible number and JSON text. Expected values were produced by Go's strconv and
encoding/json (the reference runtime's standard library)."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_opspec.values.encoding import (
    JSONError,
    NumberSyntaxError,
    format_json_number,
    format_number,
    marshal_json,
    parse_number,
    unmarshal_json,
)

PARSED = [
    ("0", 0.0),
    ("-0", -0.0),
    ("1e3", 1000.0),
    ("1E3", 1000.0),
    ("+5", 5.0),
    ("-5", -5.0),
    (".5", 0.5),
    ("5.", 5.0),
    ("007", 7.0),
    ("1.5e-7", 1.5e-07),
    ("0.1", 0.1),
    ("1e21", 1e21),
    ("12345678901234567890", 1.2345678901234567e19),
    ("Inf", math.inf),
    ("+Inf", math.inf),
    ("-Inf", -math.inf),
    ("inf", math.inf),
    ("infinity", math.inf),
    ("-Infinity", -math.inf),
    ("0x1p-2", 0.25),
    ("0X1.8P1", 3.0),
    ("-0x.8p1", -1.0),
    ("1_000", 1000.0),
    ("1_000.000_1", 1000.0001),
    ("0x_1p1", 2.0),
    ("1e1_0", 1e10),
    ("1e-400", 0.0),  # underflow is not an error
    ("4.9e-324", 5e-324),
]

REJECTED = [
    ("", "invalid syntax"),
    (" 1", "invalid syntax"),
    ("1 ", "invalid syntax"),
    ("\t1", "invalid syntax"),
    ("1\n", "invalid syntax"),
    ("abc", "invalid syntax"),
    ("+", "invalid syntax"),
    (".", "invalid syntax"),
    ("e5", "invalid syntax"),
    ("1e", "invalid syntax"),
    ("1e+", "invalid syntax"),
    ("0x1", "invalid syntax"),  # a hex mantissa needs a p exponent
    ("0x1.8", "invalid syntax"),
    ("0xp1", "invalid syntax"),
    ("1__0", "invalid syntax"),
    ("_1", "invalid syntax"),
    ("1_", "invalid syntax"),
    ("1_.5", "invalid syntax"),
    ("1._5", "invalid syntax"),
    ("1e_1", "invalid syntax"),
    ("+nan", "invalid syntax"),
    ("-NaN", "invalid syntax"),
    ("infin", "invalid syntax"),
    ("infinityy", "invalid syntax"),
    ("1.2.3", "invalid syntax"),
    ("0b101", "invalid syntax"),
    ("0o17", "invalid syntax"),
    ("\u0661", "invalid syntax"),  # a non-ASCII digit
    ("1e400", "value out of range"),
    ("-1e400", "value out of range"),
    ("0x1p1024", "value out of range"),
]

# value, Go FormatFloat(x, 'f', -1, 64), Go json.Marshal(x)
FORMATTED = [
    (0.0, "0", "0"),
    (-0.0, "-0", "-0"),
    (3.0, "3", "3"),
    (-2.5, "-2.5", "-2.5"),
    (0.1, "0.1", "0.1"),
    (0.3, "0.3", "0.3"),
    (1 / 3, "0.3333333333333333", "0.3333333333333333"),
    (1e20, "100000000000000000000", "100000000000000000000"),
    (1e21, "1000000000000000000000", "1e+21"),
    (1.5e21, "1500000000000000000000", "1.5e+21"),
    (1e-6, "0.000001", "0.000001"),
    (1e-7, "0.0000001", "1e-7"),
    (1.5e-7, "0.00000015", "1.5e-7"),
    (123456789.123, "123456789.123", "123456789.123"),
    (1e16, "10000000000000000", "10000000000000000"),
    (1.2345678901234567e19, "12345678901234567000", "12345678901234567000"),
    (2.0**53, "9007199254740992", "9007199254740992"),
    (1e100, "1" + "0" * 100, "1e+100"),
    (1e-100, "0." + "0" * 99 + "1", "1e-100"),
    (9.999999999999999e20, "999999999999999900000", "999999999999999900000"),
    (5e-324, "0." + "0" * 323 + "5", "5e-324"),
    (1.7976931348623157e308, "17976931348623157" + "0" * 292, "1.7976931348623157e+308"),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse_number_accepts_what_go_accepts(text: str, expected: float) -> None:
    parsed = parse_number(text)
    assert parsed == expected
    assert math.copysign(1.0, parsed) == math.copysign(1.0, expected)


@pytest.mark.parametrize("text", ["NaN", "nan", "NAN"])
def test_parse_number_accepts_unsigned_nan(text: str) -> None:
    assert math.isnan(parse_number(text))


@pytest.mark.parametrize(("text", "reason"), REJECTED)
def test_parse_number_rejects_what_go_rejects(text: str, reason: str) -> None:
    with pytest.raises(NumberSyntaxError) as caught:
        parse_number(text)
    assert str(caught.value) == reason


@pytest.mark.parametrize(("number", "plain", "json_text"), FORMATTED)
def test_format_number_and_json_number_match_go(number: float, plain: str, json_text: str) -> None:
    assert format_number(number) == plain
    assert format_json_number(number) == json_text


@pytest.mark.parametrize(("number", "text"), [(math.nan, "NaN"), (math.inf, "+Inf"), (-math.inf, "-Inf")])
def test_format_number_of_non_finite_numbers(number: float, text: str) -> None:
    assert format_number(number) == text
    with pytest.raises(JSONError, match="unsupported value"):
        format_json_number(number)


@given(st.floats(allow_nan=False))
def test_format_number_round_trips_through_parse_number(number: float) -> None:
    text = format_number(number)
    assert "e" not in text
    assert parse_number(text) == number


@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-2**53, 2**53).map(float)))
def test_format_number_is_the_shortest_round_trip_digits_in_plain_layout(number: float) -> None:
    """Integers below 2**53 take a path without decimal; every number must come out as decimal lays it out."""
    expected = format(Decimal(repr(number)), "f")
    expected = expected.rstrip("0").rstrip(".") if "." in expected else expected
    assert format_number(number) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_json_number_round_trips(number: float) -> None:
    assert float(format_json_number(number)) == number
    assert unmarshal_json(format_json_number(number)) == number


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"b": 1, "a": [1, 2.5, 1e21, 1e-7, True, None, "x"]}, '{"a":[1,2.5,1e+21,1e-7,true,null,"x"],"b":1}'),
        ({"é": 1, "e": 2, "E": 3, "😀": 4}, '{"E":3,"e":2,"é":1,"😀":4}'),
        ("<a href='x'>&</a>", "\"\\u003ca href='x'\\u003e\\u0026\\u003c/a\\u003e\""),
        ("\u2028\u2029", '"\\u2028\\u2029"'),
        ("\x00\x01\x08\x0b\x0c\x1f\x7f", '"\\u0000\\u0001\\u0008\\u000b\\u000c\\u001f\x7f"'),
        ('"\\/\n\r\t', '"\\"\\\\/\\n\\r\\t"'),
        ("é€😀", '"é€😀"'),
        ([], "[]"),
        ({}, "{}"),
        (1.0, "1"),
        (12345678901234567890, "12345678901234567000"),  # integers are doubles, as in Go
        ({1: "a", False: "b", None: "c"}, '{"1":"a","false":"b","null":"c"}'),
    ],
)
def test_marshal_json_matches_go(data: object, text: str) -> None:
    assert marshal_json(data) == text


def test_marshal_json_writes_a_lone_surrogate_as_the_replacement_character() -> None:
    assert marshal_json("a\ud800b") == '"a\ufffdb"'


@pytest.mark.parametrize("data", [[math.nan], {"a": math.inf}, object(), {(1, 2): 1}, 10**400])
def test_marshal_json_rejects_what_go_cannot_encode(data: object) -> None:
    with pytest.raises(JSONError):
        marshal_json(data)


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("[1, 2.5, true, null]", [1, 2.5, True, None]),
        ('  {"a" : {"b": []}}  ', {"a": {"b": []}}),
        ('{"a":1,"a":2}', {"a": 2}),
        ("[9007199254740993]", [9007199254740992.0]),  # beyond 2**53: a double, as in Go
        ("null", None),
    ],
)
def test_unmarshal_json(text: str, data: object) -> None:
    assert unmarshal_json(text) == data


def test_unmarshal_json_keeps_the_sign_of_zero() -> None:
    assert marshal_json(unmarshal_json("[-0]")) == "[-0]"


@pytest.mark.parametrize(
    "text", ["", "[1,]", "[NaN]", "[Infinity]", "[1e400]", "[01]", "{'a':1}", "\ufeff[]", "[" * 100000]
)
def test_unmarshal_json_rejects_what_go_rejects(text: str) -> None:
    with pytest.raises(JSONError):
        unmarshal_json(text)


json_data = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_data)
def test_marshal_json_is_compact_sorted_json(data: object) -> None:
    text = marshal_json(data)
    # Go writes every number as a double: read integers back as doubles too.
    assert json.loads(text, parse_int=float) == json.loads(json.dumps(data), parse_int=float)
    assert marshal_json(unmarshal_json(text)) == text
