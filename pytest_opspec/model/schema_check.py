"""Is an op.yml document valid against the schema? A yes/no answer that does not import jsonschema.

Most op.yml files that are run are valid, and importing jsonschema costs more than the whole rest of
``opspec run``'s start-up. So the schema is compiled once into nested closures for the draft-04
keywords it uses, with jsonschema's Draft4Validator meaning (``$ref`` hides its siblings, integers
are never floats, ``true`` is not ``1``, ``pattern`` is a search, ``format`` is not checked); only a
document found invalid goes to jsonschema, whose errors schema.py explains. A keyword or ``$ref``
this module does not know is refused when compiling, so the schema cannot grow one that would be
ignored silently; the tests compare the verdicts with jsonschema's on every corpus file and on
mutations of them.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

Check = Callable[[Any], bool]

# Constraints in an op.yml are JSON schemas themselves, checked against the draft-04 meta-schema.
META_SCHEMA_URI = "http://json-schema.org/draft-04/schema#"

# Keywords that never make a document invalid (draft-04 without a format checker ignores format).
_ANNOTATIONS = frozenset({"$schema", "id", "title", "description", "default", "definitions", "format"})
_OBJECT_KEYWORDS = frozenset({"properties", "patternProperties", "additionalProperties", "required", "dependencies"})

_TYPES: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


class UnsupportedSchema(Exception):
    """The schema uses a keyword, a form of one or a ``$ref`` that compile_schema does not implement."""


def compile_schema(schema: Mapping[str, Any], meta_schema: Mapping[str, Any]) -> Check:
    """A function telling whether a document is valid against the draft-04 ``schema``, whose
    ``$ref``s may also name the draft-04 ``meta_schema``."""
    return _Compiler({"": schema, META_SCHEMA_URI: meta_schema}).reference("", "#")


class _Compiler:
    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        self._documents = documents
        self._compiled: dict[tuple[str, str], Check] = {}

    def reference(self, document: str, target: str) -> Check:
        if target == META_SCHEMA_URI:
            document, target = META_SCHEMA_URI, "#"
        key = (document, target)
        if key not in self._compiled:
            root = self._documents[document]
            if target == "#":
                node = root
            elif target.startswith("#/definitions/") and target[14:] in root.get("definitions", {}):
                node = root["definitions"][target[14:]]
            else:
                raise UnsupportedSchema(f"$ref {target!r}")
            # Bound late: definitions refer to themselves (calls contain calls, schemas contain schemas).
            self._compiled[key] = lambda value: self._compiled[key](value)
            self._compiled[key] = self.build(node, document)
        return self._compiled[key]

    def build(self, node: Mapping[str, Any], document: str) -> Check:
        if "$ref" in node:
            return self.reference(document, node["$ref"])
        checks = [self._object_check(node, document)] if _OBJECT_KEYWORDS & node.keys() else []
        for keyword, argument in node.items():
            if keyword in _ANNOTATIONS or keyword in _OBJECT_KEYWORDS or keyword == "exclusiveMinimum":
                continue
            checks.append(self._keyword_check(keyword, argument, node, document))
        return lambda value: all(check(value) for check in checks)

    def _keyword_check(self, keyword: str, argument: Any, node: Mapping[str, Any], document: str) -> Check:
        if keyword == "type":
            types = [_TYPES[name] for name in ([argument] if isinstance(argument, str) else argument)]
            return lambda value: any(check(value) for check in types)
        if keyword == "items" and isinstance(argument, dict):
            item = self.build(argument, document)
            return lambda value: not isinstance(value, list) or all(map(item, value))
        if keyword in ("oneOf", "anyOf", "allOf"):
            branches = [self.build(branch, document) for branch in argument]
            if keyword == "oneOf":
                return lambda value: sum(1 for branch in branches if branch(value)) == 1
            if keyword == "anyOf":
                return lambda value: any(branch(value) for branch in branches)
            return lambda value: all(branch(value) for branch in branches)
        if keyword == "enum" and all(isinstance(member, str) for member in argument):
            members = frozenset(argument)
            return lambda value: isinstance(value, str) and value in members
        if keyword == "minimum" and _TYPES["number"](argument):
            exclusive = bool(node.get("exclusiveMinimum"))
            return lambda value: (not _TYPES["number"](value)
                                  or (value > argument if exclusive else value >= argument))
        if keyword == "minItems" and _TYPES["integer"](argument):
            return lambda value: not isinstance(value, list) or len(value) >= argument
        if keyword == "uniqueItems" and isinstance(argument, bool):
            return lambda value: not argument or not isinstance(value, list) or _unique(value)
        if keyword == "pattern":
            search = re.compile(argument).search
            return lambda value: not isinstance(value, str) or search(value) is not None
        raise UnsupportedSchema(f"keyword {keyword!r}: {argument!r}")

    def _object_check(self, node: Mapping[str, Any], document: str) -> Check:
        properties = {name: self.build(sub, document) for name, sub in node.get("properties", {}).items()}
        patterns = [(re.compile(pattern).search, self.build(sub, document))
                    for pattern, sub in node.get("patternProperties", {}).items()]
        additional = node.get("additionalProperties", True)
        additional_check = None if isinstance(additional, bool) else self.build(additional, document)
        required = list(node.get("required", ()))
        dependencies = [(name, self._dependency_check(dependency, document))
                        for name, dependency in node.get("dependencies", {}).items()]

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
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
