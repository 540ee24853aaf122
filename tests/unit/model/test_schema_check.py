"""The compiled yes/no schema check (schema_check.py): each keyword means what it means to jsonschema's
Draft4Validator. Every case states the verdict and checks that jsonschema agrees."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft4Validator

from pytest_opspec.model.schema import op_schema
from pytest_opspec.model.schema_check import META_SCHEMA_URI, UnsupportedSchema, compile_schema
from pytest_opspec.resources import load_json_schema

META = load_json_schema("json-schema-draft-04.json")

CASES: list[tuple[dict[str, Any], Any, bool]] = [
    ({"type": "integer"}, 3, True),
    ({"type": "integer"}, 3.0, False),  # draft-04: a float is never an integer
    ({"type": "integer"}, True, False),
    ({"type": "number"}, False, False),
    ({"type": ["string", "null"]}, None, True),
    ({"type": "object"}, [], False),
    ({"enum": ["integer"]}, "integer", True),
    ({"enum": ["integer"]}, 1, False),
    ({"enum": ["integer"]}, ["integer"], False),
    ({"minimum": 0}, -1, False),
    ({"minimum": 0}, "-1", True),  # applies to numbers only
    ({"minimum": 0, "exclusiveMinimum": True}, 0, False),
    ({"minItems": 1}, [], False),
    ({"uniqueItems": True}, [1, True], True),  # true is not 1
    ({"uniqueItems": True}, [1, 1.0], False),
    ({"uniqueItems": True}, [{"a": [1]}, {"a": [1]}], False),
    ({"uniqueItems": True}, [{"a": [1]}, {"a": [True]}], True),
    ({"pattern": "^[0-9]+$"}, "12", True),
    ({"pattern": "[0-9]"}, "a1b", True),  # a search, not a match
    ({"pattern": "^[0-9]+$"}, 12, True),
    ({"required": ["a"]}, {"b": 1}, False),
    ({"required": ["a"]}, "not an object", True),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"a": "x"}, True),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"b": "x"}, False),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}, {"x-a": "y"}, True),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}, {"x-a": 1}, False),
    ({"properties": {"a": {"type": "integer"}}, "patternProperties": {"a": {"minimum": 5}}}, {"a": 3}, False),
    ({"additionalProperties": {"type": "string"}}, {"a": 1}, False),
    ({"dependencies": {"a": ["b"]}}, {"a": 1}, False),
    ({"dependencies": {"a": {"required": ["c"]}}}, {"a": 1, "c": 2}, True),
    ({"items": {"type": "string"}}, ["a", 1], False),
    ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 1, False),  # both match: not exactly one
    ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, -1, True),
    ({"anyOf": [{"type": "integer"}, {"type": "string"}]}, None, False),
    ({"allOf": [{"type": "integer"}, {"minimum": 0}]}, -1, False),
    ({"$ref": "#/definitions/s", "type": "integer", "definitions": {"s": {"type": "string"}}}, "x", True),
    ({"format": "email"}, "not an email", True),  # draft-04 without a format checker
    ({"$ref": META_SCHEMA_URI}, {"type": "strin"}, False),
    ({"$ref": META_SCHEMA_URI}, {"minLength": -1}, False),
    ({"$ref": META_SCHEMA_URI}, {"exclusiveMinimum": True}, False),  # needs minimum
    ({"$ref": META_SCHEMA_URI}, {"items": [{"type": "string"}], "enum": [1, True]}, True),
    ({"$ref": META_SCHEMA_URI}, {"enum": [1, 1.0]}, False),
]


@pytest.mark.parametrize(("schema", "instance", "valid"), CASES)
def test_each_keyword_means_what_it_means_to_jsonschema(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    assert compile_schema(schema, META)(instance) is valid
    reference = Draft4Validator(schema) if "$ref" not in schema or schema["$ref"] != META_SCHEMA_URI else \
        Draft4Validator(META)
    assert reference.is_valid(instance) is valid


def test_recursive_definitions_compile_once() -> None:
    schema = {"definitions": {"call": {"type": "object", "properties": {"serial": {"type": "array",
                                                                                  "items": {"$ref": "#/definitions/call"}}},
                                       "additionalProperties": False}},
              "$ref": "#/definitions/call"}
    check = compile_schema(schema, META)
    assert check({"serial": [{"serial": [{}]}]})
    assert not check({"serial": [{"serial": [{"container": {}}]}]})


@pytest.mark.parametrize("schema", [
    {"maxLength": 3},  # a keyword the op schema does not use
    {"not": {"type": "string"}},
    {"$ref": "other.json#"},
    {"enum": [1, 2]},  # only string enums are implemented
])
def test_what_it_does_not_implement_is_refused_when_compiling(schema: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedSchema):
        compile_schema(schema, META)


def test_the_op_schema_compiles() -> None:
    check = compile_schema(op_schema(), META)
    assert check({"name": "x", "run": {"container": {"image": {"ref": "alpine"}}}})
    assert not check({"name": "x", "run": {"container": {"image": {"ref": "alpine"}}, "op": {}}})
