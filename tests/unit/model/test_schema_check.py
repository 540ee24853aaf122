"""The compiled yes/no schema check (schema_check.py): each keyword means what it means to jsonschema's
Draft4Validator. Every case states the verdict and checks that jsonschema agrees."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, Draft7Validator

from pytest_opspec.model.schema import op_schema
from pytest_opspec.model.schema_check import META_SCHEMA_URI, UnsupportedSchema, compile_schema, draft4_meta_schema
from pytest_opspec.model.yaml12 import load_yaml_file
from pytest_opspec.resources import load_json_schema

from tests.support import REPO

META = draft4_meta_schema()

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
    ({"enum": [1, None, [True]]}, True, False),
    ({"enum": [1, None, [True]]}, 1.0, True),
    ({"enum": [1, None, [True]]}, [1], False),
    ({"maxLength": 2}, "abc", False),
    ({"minLength": 2}, "é", False),  # code points
    ({"maximum": 3, "exclusiveMaximum": True}, 3, False),
    ({"maximum": 3}, 3, True),
    ({"exclusiveMaximum": True}, 100, True),  # without maximum it checks nothing
    ({"maxItems": 1}, [1, 2], False),
    ({"minProperties": 1}, {}, False),
    ({"maxProperties": 1}, {"a": 1, "b": 2}, False),
    ({"not": {"type": "string"}}, "x", False),
    ({"items": [{"type": "string"}], "additionalItems": False}, ["a", 1], False),
    ({"items": [{"type": "string"}], "additionalItems": {"type": "integer"}}, ["a", 1], True),
    ({"items": [{"type": "string"}], "additionalItems": {"type": "integer"}}, ["a", "b"], False),
    ({"items": [{"type": "string"}]}, [1], False),
    ({"additionalItems": False}, [1, 2], True),  # only beside a list of items
    ({"items": {"type": "string"}, "additionalItems": False}, ["a", "b"], True),
]


@pytest.mark.parametrize(("schema", "instance", "valid"), CASES)
def test_each_keyword_means_what_it_means_to_jsonschema(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    assert compile_schema(schema)(instance) is valid
    reference = Draft4Validator(schema) if "$ref" not in schema or schema["$ref"] != META_SCHEMA_URI else \
        Draft4Validator(META)
    assert reference.is_valid(instance) is valid


def test_recursive_definitions_compile_once() -> None:
    schema = {"definitions": {"call": {"type": "object", "properties": {"serial": {"type": "array",
                                                                                  "items": {"$ref": "#/definitions/call"}}},
                                       "additionalProperties": False}},
              "$ref": "#/definitions/call"}
    check = compile_schema(schema)
    assert check({"serial": [{"serial": [{}]}]})
    assert not check({"serial": [{"serial": [{"container": {}}]}]})


@pytest.mark.parametrize("schema", [
    {"x-unknown": 3},  # jsonschema would ignore it; the caller asks jsonschema
    {"$ref": "other.json#"},
    {"$ref": "#/properties/a"},
    {"properties": {"a": {"id": "http://x/"}}},  # an id below the root moves the base of $refs
    {"type": "any"},
    {"minimum": "3"},
    {"items": True},
])
def test_what_it_does_not_implement_is_refused_when_compiling(schema: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedSchema):
        compile_schema(schema)


def test_a_pattern_the_caller_cannot_compile_is_refused() -> None:
    def refuse(pattern: str) -> Any:
        raise UnsupportedSchema(pattern)

    with pytest.raises(UnsupportedSchema):
        compile_schema({"patternProperties": {"(?<=a)": {}}}, compile_pattern=refuse)


def test_a_callers_keywords_replace_the_standard_meaning() -> None:
    check = compile_schema({"format": "even"}, keywords={"format": lambda name: lambda value: value % 2 == 0})
    assert check(2) and not check(3)
    assert compile_schema({"format": "even"})(3)  # no format checked unless the caller gives one


def test_the_op_schema_compiles() -> None:
    check = compile_schema(op_schema())
    assert check({"name": "x", "run": {"container": {"image": {"ref": "alpine"}}}})
    assert not check({"name": "x", "run": {"container": {"image": {"ref": "alpine"}}, "op": {}}})


# --- draft-07 (the scenario files' schema) --------------------------------------------------------

DRAFT7_CASES: list[tuple[dict[str, Any], Any, bool]] = [
    ({"type": "integer"}, 3.0, True),  # draft-06 and later: an integral float is an integer
    ({"type": "integer"}, 3.5, False),
    ({"exclusiveMinimum": 0}, 0, False),
    ({"exclusiveMinimum": 0}, 0.1, True),
    ({"minimum": 0, "exclusiveMinimum": 0}, 0, False),
    ({"exclusiveMaximum": 2}, 2, False),
    ({"propertyNames": {"minLength": 1}}, {"": 1}, False),
    ({"propertyNames": {"minLength": 1}}, {"a": 1}, True),
    ({"const": 1}, True, False),
    ({"const": {"a": [1]}}, {"a": [1.0]}, True),
    ({"contains": {"type": "string"}}, [1, "a"], True),
    ({"contains": {"type": "string"}}, [1], False),
    ({"properties": {"a": False}}, {"a": 1}, False),
    ({"items": True}, [1], True),
    ({"$id": "x", "$comment": "c", "type": "string"}, "s", True),
]


@pytest.mark.parametrize(("schema", "instance", "valid"), DRAFT7_CASES)
def test_draft7_keywords_mean_what_they_mean_to_jsonschema(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    assert compile_schema(schema, draft=7)(instance) is valid
    assert Draft7Validator(schema).is_valid(instance) is valid


@pytest.mark.parametrize("schema", [
    {"if": {"type": "string"}, "then": {"minLength": 1}},
    {"properties": {"a": {"$id": "http://x/", "items": {"$ref": "#"}}}},
])
def test_draft7_conditionals_and_nested_ids_are_refused(schema: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedSchema):
        compile_schema(schema, draft=7)


SCENARIOS_SCHEMA = load_json_schema("scenarios.schema.json")


def _property_names(node: Any) -> set[str]:
    names = set()
    if isinstance(node, dict):
        names |= set(node.get("properties", {}))
        for child in node.values():
            names |= _property_names(child)
    elif isinstance(node, list):
        for child in node:
            names |= _property_names(child)
    return names


_SCENARIO_KEYS = sorted(_property_names(SCENARIOS_SCHEMA) | {"zz", ""})
# Values where draft-07 differs from draft-04 or is subtle: 2.0 is an integer, exclusive bounds are numbers.
_EDGES = [None, True, 0, 1, -1, 0.5, 2.0, "", "x", "64m", "exited", "failure", [], {}, {"": 1}, {"a": None}]
SEEDS = [load_yaml_file(file).data for file in sorted((REPO / "examples").glob("*/scenarios.yml"))]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        found.extend(_paths(child, (*path, key)))
    return found


@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_the_scenario_schema_check_gives_jsonschemas_verdict(data: st.DataObject) -> None:
    """Scenario files are checked by the compiled draft-07 schema; jsonschema only explains a bad one.
    Each example is a real scenario file with one node replaced, removed or given a key."""
    document = copy.deepcopy(data.draw(st.sampled_from(SEEDS)))
    *parents, last = data.draw(st.sampled_from(_paths(document)[1:]))
    parent = document
    for key in parents:
        parent = parent[key]
    action = data.draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "remove":
        del parent[last]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last][data.draw(st.sampled_from(_SCENARIO_KEYS))] = data.draw(st.sampled_from(_EDGES))
    else:
        parent[last] = data.draw(st.sampled_from(_EDGES))
    assert compile_schema(SCENARIOS_SCHEMA, draft=7)(document) is Draft7Validator(SCENARIOS_SCHEMA).is_valid(document)


def test_the_scenario_files_of_the_examples_are_valid() -> None:
    check = compile_schema(SCENARIOS_SCHEMA, draft=7)
    files = sorted((REPO / "examples").glob("*/scenarios.yml"))
    assert files
    for file in files:
        assert check(load_yaml_file(file).data), file
