"""Is a document valid against a draft-04 (or draft-07) schema? A yes/no answer that does not import jsonschema.

Most op.yml files that are run are valid, and so are most input values; importing jsonschema costs
more than the whole rest of ``opspec run``'s start-up. So a schema is compiled once into nested
closures with jsonschema's Draft4Validator meaning (``$ref`` hides its siblings, integers are never
floats, ``true`` is not ``1``, ``pattern`` is a search, unknown formats pass), or Draft7Validator's for
the scenario files' schema; only a document found invalid goes to jsonschema, which says why (schema.py
for op.yml, constraints.py for input values, scenarios.py for scenario files).

It fails closed: a keyword, a ``$ref`` or a pattern it does not handle raises UnsupportedSchema when
compiling, and the caller asks jsonschema instead; it never ignores what jsonschema would check. The
tests compare the verdicts with jsonschema's on every corpus file, mutations of them, and generated
constraints and values.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable, Mapping

from ..resources import load_json_schema

Check = Callable[[Any], bool]
# A keyword's check from the keyword's argument, for keywords whose meaning a caller changes.
KeywordFactory = Callable[[Any], Check]

# Constraints in an op.yml are JSON schemas themselves, checked against the draft-04 meta-schema.
META_SCHEMA_URI = "http://json-schema.org/draft-04/schema#"

# Keywords that never make a document invalid.
_ANNOTATIONS = frozenset({"$schema", "title", "description", "default", "definitions"})
_DRAFT7_ANNOTATIONS = frozenset({"$id", "$comment", "examples", "readOnly", "writeOnly"})
_OBJECT_KEYWORDS = frozenset({"properties", "patternProperties", "additionalProperties", "required", "dependencies",
                              "minProperties", "maxProperties"})
# Read together with their sibling (draft-04: booleans beside minimum/maximum, items).
_PARTS = frozenset({"exclusiveMinimum", "exclusiveMaximum", "additionalItems"})

_TYPES: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}
_is_number = _TYPES["number"]


class UnsupportedSchema(Exception):
    """The schema uses something compile_schema does not implement; ask jsonschema instead."""


def compile_schema(schema: Mapping[str, Any], *, compile_pattern: Callable[[str], re.Pattern[str]] = re.compile,
                   keywords: Mapping[str, KeywordFactory] | None = None, draft: int = 4) -> Check:
    """A function telling whether a document is valid against the draft-04 ``schema``, whose ``$ref``s
    may also name the draft-04 meta-schema; with ``draft=7``, against a draft-07 one (numeric
    exclusive bounds, integral floats as integers, ``propertyNames``, ``const``, ``contains``, boolean
    schemas; no ``if``/``then``/``else``).

    ``compile_pattern`` compiles ``pattern`` and ``patternProperties`` (it raises UnsupportedSchema
    for one it cannot); ``keywords`` gives keywords a caller's own meaning (``format`` is not checked
    unless given, as jsonschema checks no format without a format checker).
    """
    if draft not in (4, 7):
        raise UnsupportedSchema(f"draft {draft}")
    documents = {"": schema, META_SCHEMA_URI: draft4_meta_schema()} if draft == 4 else {"": schema}
    return _Compiler(documents, compile_pattern, {"format": lambda _: always_valid, **(keywords or {})},
                     draft).reference("", "#")


@functools.cache
def draft4_meta_schema() -> dict[str, Any]:
    """The draft-04 meta-schema (bundled: jsonschema's copy is only reachable by importing jsonschema)."""
    return load_json_schema("json-schema-draft-04.json")


def always_valid(value: Any) -> bool:
    return True


def _never_valid(value: Any) -> bool:
    return False


def _is_integral(value: Any) -> bool:
    """Draft-06 and later: 1.0 is an integer too."""
    return _TYPES["integer"](value) or (isinstance(value, float) and value.is_integer())


class _Compiler:
    def __init__(self, documents: Mapping[str, Mapping[str, Any]], compile_pattern: Callable[[str], re.Pattern[str]],
                 keywords: Mapping[str, KeywordFactory], draft: int) -> None:
        self._documents = documents
        self._compile_pattern = compile_pattern
        self._keywords = keywords
        self._draft = draft
        self._types = _TYPES if draft == 4 else {**_TYPES, "integer": _is_integral}
        self._annotations = _ANNOTATIONS if draft == 4 else _ANNOTATIONS | _DRAFT7_ANNOTATIONS
        # Draft-07's exclusive bounds are numbers and keywords of their own, not parts of minimum/maximum.
        self._parts = _PARTS if draft == 4 else _PARTS - {"exclusiveMinimum", "exclusiveMaximum"}
        self._compiled: dict[tuple[str, str], Check] = {}

    def reference(self, document: str, target: str) -> Check:
        if target == META_SCHEMA_URI and META_SCHEMA_URI in self._documents:
            document, target = META_SCHEMA_URI, "#"
        key = (document, target)
        if key not in self._compiled:
            root = self._documents[document]
            definitions = root.get("definitions", {})
            if target == "#":
                node = root
            elif target.startswith("#/definitions/") and isinstance(definitions, dict) and target[14:] in definitions:
                node = definitions[target[14:]]
            else:
                raise UnsupportedSchema(f"$ref {target!r}")
            # Bound late: definitions refer to themselves (calls contain calls, schemas contain schemas).
            self._compiled[key] = lambda value: self._compiled[key](value)
            self._compiled[key] = self.build(node, document, root=node is root)
        return self._compiled[key]

    def build(self, node: Any, document: str, *, root: bool = False) -> Check:
        if isinstance(node, bool) and self._draft == 7:
            return always_valid if node else _never_valid
        if not isinstance(node, dict):
            raise UnsupportedSchema(f"schema {node!r} is not an object")
        if "$ref" in node:
            return self.reference(document, node["$ref"])
        if not root and ("id" in node or "$id" in node):
            raise UnsupportedSchema("an 'id' below the root changes how $refs resolve")
        checks = [self._object_check(node, document)] if _OBJECT_KEYWORDS & node.keys() else []
        for keyword, argument in node.items():
            if keyword in self._annotations or keyword in _OBJECT_KEYWORDS or keyword in self._parts or keyword == "id":
                continue
            checks.append(self._keyword_check(keyword, argument, node, document))
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    def _keyword_check(self, keyword: str, argument: Any, node: Mapping[str, Any], document: str) -> Check:
        if keyword in self._keywords:
            return self._keywords[keyword](argument)
        if keyword == "type":
            names = [argument] if isinstance(argument, str) else argument
            if not isinstance(names, list) or not all(name in _TYPES for name in names):
                raise UnsupportedSchema(f"type {argument!r}")
            types = [self._types[name] for name in names]
            return lambda value: any(check(value) for check in types)
        if keyword == "enum" and isinstance(argument, list):
            return lambda value: any(_equal(member, value) for member in argument)
        if keyword == "not":
            negated = self.build(argument, document)
            return lambda value: not negated(value)
        if keyword in ("oneOf", "anyOf", "allOf") and isinstance(argument, list):
            branches = [self.build(branch, document) for branch in argument]
            if keyword == "oneOf":
                return lambda value: sum(1 for branch in branches if branch(value)) == 1
            if keyword == "anyOf":
                return lambda value: any(branch(value) for branch in branches)
            return lambda value: all(branch(value) for branch in branches)
        if keyword == "items":
            return self._items_check(argument, node.get("additionalItems", True), document)
        if keyword in ("minimum", "maximum") and _is_number(argument):
            exclusive = False if self._draft == 7 else node.get(
                "exclusiveMinimum" if keyword == "minimum" else "exclusiveMaximum", False)
            if not isinstance(exclusive, bool):
                raise UnsupportedSchema(f"exclusive bound {exclusive!r}")
            return _bound_check(argument, keyword == "minimum", exclusive)
        if keyword in ("exclusiveMinimum", "exclusiveMaximum") and _is_number(argument):
            return _bound_check(argument, keyword == "exclusiveMinimum", True)
        if self._draft == 7 and keyword == "const":
            return lambda value: _equal(argument, value)
        if self._draft == 7 and keyword == "contains":
            contained = self.build(argument, document)
            return lambda value: not isinstance(value, list) or any(map(contained, value))
        if self._draft == 7 and keyword == "propertyNames":
            name_check = self.build(argument, document)
            return lambda value: not isinstance(value, dict) or all(map(name_check, value))
        if keyword in _SIZES and _TYPES["integer"](argument):
            kind, at_least = _SIZES[keyword]
            return lambda value: not isinstance(value, kind) or (len(value) >= argument if at_least
                                                                 else len(value) <= argument)
        if keyword == "uniqueItems" and isinstance(argument, bool):
            return lambda value: not argument or not isinstance(value, list) or _unique(value)
        if keyword == "pattern" and isinstance(argument, str):
            search = self._compile_pattern(argument).search
            return lambda value: not isinstance(value, str) or search(value) is not None
        raise UnsupportedSchema(f"keyword {keyword!r}: {argument!r}")

    def _items_check(self, items: Any, additional: Any, document: str) -> Check:
        if isinstance(items, dict) or (self._draft == 7 and isinstance(items, bool)):
            # one schema for every item; additionalItems does not apply
            item = self.build(items, document)
            return lambda value: not isinstance(value, list) or all(map(item, value))
        if not isinstance(items, list):
            raise UnsupportedSchema(f"items {items!r}")
        positional = [self.build(schema, document) for schema in items]
        if isinstance(additional, bool):
            rest: Check | None = None
        else:
            rest = self.build(additional, document)

        def check(value: Any) -> bool:
            if not isinstance(value, list):
                return True
            if not all(schema(item) for schema, item in zip(positional, value, strict=False)):  # the shorter decides
                return False
            extra = value[len(positional):]
            if rest is not None:
                return all(map(rest, extra))
            return additional is not False or not extra

        return check

    def _object_check(self, node: Mapping[str, Any], document: str) -> Check:
        properties = {name: self.build(sub, document) for name, sub in node.get("properties", {}).items()}
        patterns = [(self._compile_pattern(pattern).search, self.build(sub, document))
                    for pattern, sub in node.get("patternProperties", {}).items()]
        additional = node.get("additionalProperties", True)
        additional_check = None if isinstance(additional, bool) else self.build(additional, document)
        required = list(node.get("required", ()))
        dependencies = [(name, self._dependency_check(dependency, document))
                        for name, dependency in node.get("dependencies", {}).items()]
        fewest, most = node.get("minProperties", 0), node.get("maxProperties")
        if not _TYPES["integer"](fewest) or not (most is None or _TYPES["integer"](most)):
            raise UnsupportedSchema(f"minProperties {fewest!r}, maxProperties {most!r}")

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            if len(value) < fewest or (most is not None and len(value) > most):
                return False
            if any(name not in value for name in required):
                return False
            if not all(dependency(value) for name, dependency in dependencies if name in value):
                return False
            for key, item in value.items():
                declared = properties.get(key)
                if declared is not None and not declared(item):
                    return False
                matched = False
                for search, pattern_check in patterns:
                    if search(key) is not None:
                        matched = True
                        if not pattern_check(item):
                            return False
                if declared is None and not matched:
                    if additional is False or (additional_check is not None and not additional_check(item)):
                        return False
            return True

        return check

    def _dependency_check(self, dependency: Any, document: str) -> Check:
        if isinstance(dependency, list):
            return lambda value: all(name in value for name in dependency)
        return self.build(dependency, document)


# keyword -> (the JSON type it sizes, whether it is a lower bound)
_SIZES: dict[str, tuple[type[str] | type[list[Any]], bool]] = {
    "minLength": (str, True), "maxLength": (str, False),
    "minItems": (list, True), "maxItems": (list, False),
}


def _bound_check(bound: float, lower: bool, exclusive: bool) -> Check:
    def check(value: Any) -> bool:
        if not _is_number(value):
            return True
        if lower:
            return value > bound if exclusive else value >= bound
        return value < bound if exclusive else value <= bound

    return check


def _unique(items: list[Any]) -> bool:
    return not any(_equal(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))


def _equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema has it: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(map(_equal, one, two))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[key], two[key]) for key in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return one is two
    return bool(one == two)
