"""Validation of values against params (SEMANTICS §2 "Validation", §10.8, §10.22)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pytest_opspec.model.types import Param
from pytest_opspec.values import Value, ValueType
from pytest_opspec.model import constraints as constraints_module
from pytest_opspec.model.constraints import constraint_errors, validate_value
from pytest_opspec.values.encoding import marshal_json, unmarshal_json


def param(
    kind: ValueType, constraints: dict[str, Any] | None = None, *, secret: bool = False, name: str = "p"
) -> Param:
    return Param(name=name, type=kind, constraints=constraints, is_secret=secret)


def check(value: Value | None, kind: ValueType, constraints: dict[str, Any] | None = None, **options: Any) -> list[str]:
    return validate_value(value, param(kind, constraints, **options))


# --- string ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "constraints", "errors"),
    [
        ("abcd", {"minLength": 5}, ["p: must be at least 5 characters long (got 4)"]),
        ("abcde", {"minLength": 5}, []),
        ("😀😀😀", {"maxLength": 3}, []),  # code points, not bytes or UTF-16 units
        ("😀😀😀😀", {"maxLength": 3}, ["p: must be at most 3 characters long (got 4)"]),
        ("", {"minLength": 0}, []),
        ("xx-abc-yy", {"pattern": "abc"}, []),  # a search, not anchored
        ("abd", {"pattern": "^abc"}, ["p: must match the pattern '^abc' (got \"abd\")"]),
        (
            "abc\n",
            {"pattern": "^abc$"},
            ["p: must match the pattern '^abc$' (got \"abc\\n\")"],
        ),  # RE2: $ is end of text
        ("abc\n", {"pattern": "(?m)^abc$"}, []),
        ("abc", {"pattern": "abc\\z"}, []),
        ("\u0661", {"pattern": "^\\d$"}, ["p: must match the pattern '^\\d$' (got \"\u0661\")"]),  # RE2 \d is ASCII
        ("Ab9", {"pattern": "^[[:alpha:]]+[[:digit:]]$"}, []),
        ("]", {"pattern": "^[]a]$"}, []),
        ("b", {"enum": ["a", "b"]}, []),
        ("c", {"enum": ["a", "b"]}, ['p: must be one of the following: "a", "b" (got "c")']),
        ("1.0", {"format": "semver"}, ["p: does not match format 'semver' (got \"1.0\")"]),
        ("alpine", {"format": "docker-image-ref"}, []),
        ("abc", {"allOf": [{"minLength": 1}, {"maxLength": 2}]}, ["p: must be at most 2 characters long (got 3)"]),
        ("abc", {"not": {"pattern": "b"}}, ['p: must not match the schema {"pattern":"b"} (got "abc")']),
        (
            "abc",
            {"oneOf": [{"minLength": 1}, {"pattern": "a"}]},
            ["p: must match exactly one of the 'oneOf' schemas, but matches more than one"],
        ),
        (
            "abc",
            {"anyOf": [{"minLength": 5}, {"format": "semver"}]},
            [
                "p: must match at least one of the 'anyOf' schemas, but matches none (must be at least 5 characters long "
                "(got 3); does not match format 'semver' (got \"abc\"))"
            ],
        ),
    ],
)
def test_string_constraints(text: str, constraints: dict[str, Any], errors: list[str]) -> None:
    assert check(Value.string(text), ValueType.STRING, constraints) == errors


def test_every_violation_is_reported() -> None:
    errors = check(
        Value.string("x"), ValueType.STRING, {"minLength": 2, "pattern": "^y", "enum": ["z"], "format": "email"}
    )
    assert len(errors) == 4


def test_string_params_check_the_coerced_copy() -> None:
    value = Value.number(12345)
    assert check(value, ValueType.STRING, {"pattern": "^[0-9]+$", "minLength": 5}) == []
    assert value == Value.number(12345)


def test_invalid_pattern_is_reported() -> None:
    assert check(Value.string("x"), ValueType.STRING, {"pattern": "\\pL"}) == [
        "p: the constraint pattern '\\pL' is not a valid regular expression: bad escape \\p at position 0"
    ]


# --- number ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "constraints", "errors"),
    [
        (-5, {"minimum": 0}, ["p: must be greater than or equal to 0 (got -5)"]),  # zero values count (§10.8)
        (5, {"maximum": 0}, ["p: must be less than or equal to 0 (got 5)"]),
        (0, {"minimum": 0, "maximum": 0}, []),
        (0, {"minimum": 0, "exclusiveMinimum": True}, ["p: must be greater than 0 (got 0)"]),
        (10, {"maximum": 10, "exclusiveMaximum": True}, ["p: must be less than 10 (got 10)"]),
        (0.3, {"multipleOf": 0.1}, []),  # exact decimal arithmetic
        (0.35, {"multipleOf": 0.1}, ["p: must be a multiple of 0.1 (got 0.35)"]),
        (3.0, {"format": "integer"}, []),
        (2.5, {"format": "integer"}, ["p: does not match format 'integer' (got 2.5)"]),
        (2, {"enum": [1, 2.0]}, []),
        (1e21, {"maximum": 1e22}, []),
        (3, {"type": "integer"}, []),  # 3.0 is written as 3, so it is an integer
    ],
)
def test_number_constraints(number: float, constraints: dict[str, Any], errors: list[str]) -> None:
    assert check(Value.number(number), ValueType.NUMBER, constraints) == errors


def test_number_params_coerce_strings_and_files(tmp_path: Path) -> None:
    assert check(Value.string("5"), ValueType.NUMBER, {"maximum": 5}) == []
    assert check(Value.string("five"), ValueType.NUMBER) == [
        "p: unable to coerce string 'five' to number; invalid syntax"
    ]
    assert check(Value.array([]), ValueType.NUMBER) == ["p: unable to coerce array to number; incompatible types"]
    number_file = tmp_path / "n"
    number_file.write_text("7")
    assert check(Value.file(number_file), ValueType.NUMBER, {"minimum": 8}) == [
        "p: must be greater than or equal to 8 (got 7)"
    ]


def test_nan_passes_without_constraints_and_fails_with_them() -> None:
    assert check(Value.number(float("nan")), ValueType.NUMBER) == []
    assert check(Value.number(float("nan")), ValueType.NUMBER, {"minimum": 0}) == [
        "p: NaN is not a JSON value, so it cannot be checked against the constraints"
    ]


# --- array -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "constraints", "errors"),
    [
        ([1], {"maxItems": 0}, ["p: must have at most 0 items (got 1)"]),
        ([], {"minItems": 1}, ["p: must have at least 1 item (got 0)"]),
        ([1, 1.0], {"uniqueItems": True}, ["p: items must be unique"]),
        ([1, 1], {"uniqueItems": False}, []),
        ([1, "x"], {"items": {"type": "number"}}, ["p[1]: must be of type number, not string"]),
        (["1.0.0", "v1"], {"items": {"format": "semver"}}, ["p[1]: does not match format 'semver' (got \"v1\")"]),
        (
            [1, "a", 3],
            {"items": [{"type": "number"}, {"type": "string"}], "additionalItems": False},
            ["p: must have at most 2 items; additional items are not allowed"],
        ),
        (
            [1, "a", "b"],
            {"items": [{"type": "number"}], "additionalItems": {"maxLength": 0}},
            ["p[1]: must be at most 0 characters long (got 1)", "p[2]: must be at most 0 characters long (got 1)"],
        ),
    ],
)
def test_array_constraints(items: list[Any], constraints: dict[str, Any], errors: list[str]) -> None:
    assert check(Value.array(items), ValueType.ARRAY, constraints) == errors


def test_array_params_coerce_json_strings() -> None:
    assert check(Value.string("[1,2]"), ValueType.ARRAY, {"minItems": 2}) == []
    assert check(Value.string("{}"), ValueType.ARRAY) == [
        "p: unable to coerce string '{}' to array; the JSON is an object, not an array"
    ]


def test_json_null_has_no_items_to_check() -> None:
    # As in the reference, "null" coerces to no value, and item constraints ignore it.
    assert check(Value.string("null"), ValueType.ARRAY, {"minItems": 1}) == []


# --- object ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "constraints", "errors"),
    [
        (
            {"a": 1, "z": 2},
            {"properties": {"a": {}}, "additionalProperties": False},
            ["p: additional property 'z' not allowed"],
        ),
        ({"a": 1}, {"properties": {"a": {}}, "additionalProperties": False}, []),
        (
            {"x1": 1, "y": 2},
            {"patternProperties": {"^x": {}}, "additionalProperties": False},
            ["p: additional property 'y' not allowed"],
        ),
        ({"x1": "s"}, {"patternProperties": {"^x": {"type": "number"}}}, ["p.x1: must be of type number, not string"]),
        ({"a": 1, "b": "s"}, {"additionalProperties": {"type": "number"}}, ["p.b: must be of type number, not string"]),
        ({}, {"required": ["b", "c"]}, ["p: property 'b' is required", "p: property 'c' is required"]),
        ({"a": 1}, {"maxProperties": 0}, ["p: must have at most 0 properties (got 1)"]),
        ({}, {"minProperties": 1}, ["p: must have at least 1 property (got 0)"]),
        ({"a": 1}, {"dependencies": {"a": ["b"]}}, ["p: property 'b' is required when property 'a' is present"]),
        ({"a": 1}, {"dependencies": {"a": {"required": ["c"]}}}, ["p: property 'c' is required"]),
        ({"b": 1}, {"dependencies": {"a": ["b"]}}, []),
        (
            {"v": "1.0"},
            {"properties": {"v": {"format": "semver"}}},
            ["p.v: does not match format 'semver' (got \"1.0\")"],
        ),
        (
            {"v": "x"},
            {"properties": {"v": {"anyOf": [{"maxLength": 0}]}}},
            [
                "p.v: must match at least one of the 'anyOf' schemas, but matches none (must be at most 0 characters long (got 1))"
            ],
        ),
        (
            {"a b": {"c": [0, "x"]}},
            {"properties": {"a b": {"properties": {"c": {"items": {"type": "number"}}}}}},
            ['p["a b"].c[1]: must be of type number, not string'],
        ),
        ({"a": 1}, {"enum": [{"a": 2}]}, ['p: must be one of the following: {"a":2} (got {"a":1})']),
    ],
)
def test_object_constraints(data: dict[str, Any], constraints: dict[str, Any], errors: list[str]) -> None:
    assert check(Value.object(data), ValueType.OBJECT, constraints) == errors


def test_object_params_coerce_json_files(tmp_path: Path) -> None:
    document = tmp_path / "doc.json"
    document.write_text('{"a": 1}')
    assert check(Value.file(document), ValueType.OBJECT, {"required": ["a"]}) == []


# --- dir, file, socket -----------------------------------------------------------------------


def test_dir_params(tmp_path: Path) -> None:
    regular = tmp_path / "f"
    regular.write_text("")
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    assert check(Value.dir(tmp_path), ValueType.DIR) == []
    assert check(Value.dir(link), ValueType.DIR) == []  # symlinks are followed
    assert check(Value.dir(regular), ValueType.DIR) == [f"p: '{regular}' is not a dir"]
    assert check(Value.dir(tmp_path / "missing"), ValueType.DIR) == [f"p: dir '{tmp_path / 'missing'}' does not exist"]
    assert check(Value.string(str(tmp_path)), ValueType.DIR) == ["p: dir required; got a string value"]


def test_file_params(tmp_path: Path) -> None:
    regular = tmp_path / "f"
    regular.write_text("")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    assert check(Value.file(regular), ValueType.FILE) == []
    assert check(Value.file(tmp_path), ValueType.FILE) == [f"p: '{tmp_path}' is not a regular file"]
    assert check(Value.file(dangling), ValueType.FILE) == [f"p: file '{dangling}' does not exist"]
    assert check(Value.dir(regular), ValueType.FILE) == ["p: file required; got a dir value"]


def test_socket_params() -> None:
    assert check(Value.socket("0.0.0.0"), ValueType.SOCKET) == []
    assert check(Value.socket("/not/checked.sock"), ValueType.SOCKET) == []
    assert check(Value.string("0.0.0.0"), ValueType.SOCKET) == ["p: socket required; got a string value"]


@pytest.mark.parametrize("kind", list(ValueType))
def test_no_value_at_all_is_required(kind: ValueType) -> None:
    assert check(None, kind) == ["p: param required"]


# --- secrets ---------------------------------------------------------------------------------

SECRET = "hunter2-secret"


@pytest.mark.parametrize(
    ("kind", "value", "constraints"),
    [
        (ValueType.STRING, Value.string(SECRET), {"enum": ["x"]}),
        (ValueType.STRING, Value.string(SECRET), {"pattern": "^x"}),
        (ValueType.STRING, Value.string(SECRET), {"format": "semver"}),
        (ValueType.STRING, Value.string(SECRET), {"not": {"minLength": 1}}),
        (ValueType.STRING, Value.string(SECRET), {"anyOf": [{"enum": ["x"]}, {"format": "email"}]}),
        (ValueType.NUMBER, Value.string(SECRET), None),
        (ValueType.NUMBER, Value.number(123456789), {"maximum": 1}),
        (ValueType.ARRAY, Value.string(SECRET), None),
        (ValueType.ARRAY, Value.array([SECRET]), {"items": {"enum": ["x"]}}),
        (ValueType.OBJECT, Value.object({SECRET: 1}), {"additionalProperties": False}),
        (ValueType.OBJECT, Value.object({"k": SECRET}), {"properties": {"k": {"format": "uri"}}}),
        (ValueType.DIR, Value.dir(f"/{SECRET}"), None),
        (ValueType.FILE, Value.file(f"/{SECRET}"), None),
    ],
)
def test_secret_values_never_appear_in_messages(
    kind: ValueType, value: Value, constraints: dict[str, Any] | None
) -> None:
    shown = "123456789" if value.data == 123456789 else SECRET
    public = check(value, kind, constraints)
    secret = check(value, kind, constraints, secret=True)
    assert any(shown in message for message in public)  # so the secret case is a real check
    assert secret and len(secret) == len(public)
    assert not any(shown in message for message in secret), secret


# --- the validator itself --------------------------------------------------------------------


def test_a_constraint_set_is_compiled_once() -> None:
    constraints_module._validator_for.cache_clear()
    for text in ["a", "bb", "ccc"]:
        check(Value.string(text), ValueType.STRING, {"minLength": 2, "maxLength": 9})
        check(Value.string(text), ValueType.STRING, {"maxLength": 9, "minLength": 2})  # same set, other order
    check(Value.string("x"), ValueType.STRING, {"minLength": 3})
    assert constraints_module._validator_for.cache_info().misses == 2


def test_invalid_constraints_are_reported_not_raised() -> None:
    assert check(Value.string("x"), ValueType.STRING, {"minLength": -1}) == [
        "p: invalid constraints at minLength: -1 is less than the minimum of 0"
    ]
    assert check(Value.string("x"), ValueType.STRING, {"$ref": "http://example.invalid/schema"})[0].startswith(
        "p: invalid constraints: "
    )


def test_constraint_errors_checks_plain_json_data() -> None:
    assert constraint_errors(None, "anything") == []
    assert constraint_errors({"minimum": 3}, 2) == ["must be greater than or equal to 3 (got 2)"]
    assert constraint_errors({"items": {"required": ["a"]}}, [{}]) == ["[0]: property 'a' is required"]
    assert constraint_errors({"properties": {"a": {"type": "string"}}}, {"a": 1}) == [
        "a: must be of type string, not number"
    ]
    assert constraint_errors({"enum": ["x"]}, "s3cret", secret=True) == ['must be one of the following: "x"']


# --- the compiled check (schema_check.py) against jsonschema -------------------------------------

_KEYS = st.sampled_from(["a", "b", "x-1", "é"])
# Values where draft-04 is subtle: true is not 1, 1 is 1.0, bounds met exactly, empty containers.
_EDGES = st.sampled_from([True, False, 0, 1, 1.0, 2, 0.5, -1, "", "a", "1", [], [1], [True], [1, 1.0], {}, {"a": 1}])
_JSON = st.recursive(
    _EDGES | st.none() | st.integers(-5, 5) | st.sampled_from([0.1, 0.3, -2.5]) | st.text(alphabet="ab1-. é", max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_KEYS, children, max_size=3),
    max_leaves=6,
)
_SIZE = st.integers(0, 3)
_NUMBER = st.sampled_from([0, 1, 2, -1, 0.5, 0.1, 1.5])
# Keyword groups: draft-04 reads exclusiveMinimum and exclusiveMaximum only beside their bound.
_LEAF_GROUPS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "type": st.fixed_dictionaries({"type": st.sampled_from(["string", "integer", "number", "boolean", "null", "object",
                                                            "array"])
                                   | st.lists(st.sampled_from(["string", "integer", "null"]), min_size=1, max_size=2,
                                              unique=True)}),
    "enum": st.fixed_dictionaries({"enum": st.lists(_EDGES | _JSON, min_size=1, max_size=3)}),
    "lengths": st.fixed_dictionaries({}, optional={"minLength": _SIZE, "maxLength": _SIZE}),
    "sizes": st.fixed_dictionaries({}, optional={"minItems": _SIZE, "maxItems": _SIZE, "uniqueItems": st.booleans(),
                                                 "minProperties": _SIZE, "maxProperties": _SIZE}),
    "pattern": st.fixed_dictionaries({"pattern": st.sampled_from(["^a", "b$", "[[:digit:]]", "\\d", "a|é", "1\\z",
                                                                  "(?i)A"])}),
    "minimum": st.fixed_dictionaries({"minimum": _NUMBER}, optional={"exclusiveMinimum": st.booleans()}),
    "maximum": st.fixed_dictionaries({"maximum": _NUMBER}, optional={"exclusiveMaximum": st.booleans()}),
    "multipleOf": st.fixed_dictionaries({"multipleOf": st.sampled_from([1, 2, 0.5, 0.1])}),
    "format": st.fixed_dictionaries({"format": st.sampled_from(["integer", "email", "ipv4", "semver", "uri",
                                                                "date-time", "unknown-format"])}),
    "required": st.fixed_dictionaries({"required": st.lists(_KEYS, min_size=1, max_size=2, unique=True)}),
}


def _schemas() -> st.SearchStrategy[dict[str, Any]]:
    leaf = st.lists(st.sampled_from(sorted(_LEAF_GROUPS)), max_size=2, unique=True).flatmap(
        lambda chosen: st.tuples(*(_LEAF_GROUPS[group] for group in chosen))).map(
        lambda groups: {key: value for group in groups for key, value in group.items()})

    def nested(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries({}, optional={
            "properties": st.dictionaries(_KEYS, children, max_size=2),
            "patternProperties": st.dictionaries(st.sampled_from(["^x", "1$"]), children, max_size=1),
            "additionalProperties": st.booleans() | children,
            "items": children | st.lists(children, max_size=2),
            "additionalItems": st.booleans() | children,
            "enum": st.lists(_EDGES, min_size=1, max_size=3),
            "anyOf": st.lists(children, min_size=1, max_size=2),
            "oneOf": st.lists(children, min_size=1, max_size=2),
            "allOf": st.lists(children, min_size=1, max_size=2),
            "not": children,
            "dependencies": st.dictionaries(_KEYS, children | st.lists(_KEYS, min_size=1, max_size=2, unique=True),
                                            max_size=1),
        })

    return st.recursive(leaf, nested, max_leaves=4)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=_schemas(), data=_JSON)
def test_the_compiled_check_gives_jsonschemas_verdict(schema: dict[str, Any], data: Any) -> None:
    """Valid values never reach jsonschema (it is not imported for them): the compiled check must say
    "valid" exactly where the jsonschema validator finds no error."""
    constraints_json = marshal_json(schema)
    compiled = constraints_module._compiled_check(constraints_json)
    validator = constraints_module._validator_for(constraints_json)
    if isinstance(validator, str):  # not a draft-04 schema: jsonschema explains; nothing compiled
        assert compiled is None
        return
    assume(compiled is not None)
    instance = unmarshal_json(marshal_json(data))
    assert compiled(instance) is (not list(validator.iter_errors(instance)))
