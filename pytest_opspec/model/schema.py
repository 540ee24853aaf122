"""Validate an op.yml document against the project's 0.1.5 schema and explain errors to a person.

jsonschema reports a failed ``oneOf`` as "... is not valid under any of the given schemas", which
tells nobody what to fix. Here every ``oneOf``/``anyOf`` is resolved to the branch the author
meant, picked by the discriminating key (a call's ``container``/``op``/``serial``/``parallel``, a
param's type key) or by the value's type, and only that branch's errors are reported. Unknown
keys are reported one by one, at the key, with a hint when the key is a known other-version form.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..resources import load_json_schema
from .problems import Location
from .schema_check import Check, compile_schema

if TYPE_CHECKING:
    from jsonschema import Draft4Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_NAME = "op.yml.schema.json"
_DRAFT4 = "http://json-schema.org/draft-04/schema#"

# JSON Schema type -> the word an op.yml author sees.
_KIND = {"object": "mapping", "array": "sequence", "string": "string", "number": "number",
         "integer": "integer", "boolean": "boolean", "null": "null"}

# Keys from other opspec versions, with what to write instead (matched on the key's parent).
_TOP_LEVEL_HINTS = {
    "opspec": "'opspec' (the spec version of the op) was added in opspec 0.1.6; remove it for 0.1.5",
    "icon": "'icon' belongs to the 0.1.6 development line; remove it for 0.1.5",
    "params": "'params' is pre-0.1.2 syntax; declare 'inputs' and 'outputs' instead",
    "subOps": "'subOps' is pre-0.1.2 syntax; use 'run' with op calls instead",
}
_CALL_HINTS = {
    "serialLoop": "loops were added after opspec 0.1.6; 0.1.5 has only container, op, parallel and serial calls",
    "parallelLoop": "loops were added after opspec 0.1.6; 0.1.5 has only container, op, parallel and serial calls",
    "if": "conditional calls were added after opspec 0.1.6; 0.1.5 has no 'if'",
}


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One place where op.yml breaks the op schema, and why."""

    location: Location
    message: str
    # True when the problem is the key at ``location`` itself (point at the key, not its value).
    at_key: bool = False


@cache
def op_schema() -> dict[str, Any]:
    return load_json_schema(SCHEMA_NAME)


@cache
def _is_valid() -> Check:
    return compile_schema(op_schema())


@cache
def _validator() -> Draft4Validator:
    """jsonschema's validator, which explains an invalid document (imported on first use: importing
    jsonschema costs more than the rest of `opspec run`'s start-up)."""
    import copy

    from jsonschema import Draft4Validator

    return Draft4Validator(inline_local_refs(copy.deepcopy(op_schema())))


def inline_local_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace every ``{"$ref": "#/definitions/x"}`` by the definition object itself.

    The result is a cyclic structure (calls contain calls), which jsonschema walks fine; it halves
    validation time, because looking up ``$ref`` through the registry dominates otherwise.
    """
    definitions = schema["definitions"]
    seen: set[int] = set()

    def target(node: Any) -> Any:
        if isinstance(node, dict) and node.get("$ref", "").startswith("#/definitions/"):
            return definitions[node["$ref"].removeprefix("#/definitions/")]
        return node

    def walk(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in list(items):
            node[key] = target(child)
            walk(node[key])

    walk(schema)
    return schema


def schema_issues(document: Any) -> list[SchemaIssue]:
    """Every schema error of ``document``, explained; [] when it is valid."""
    if _is_valid()(document):
        return []
    issues: list[SchemaIssue] = []
    for error in _validator().iter_errors(document):
        issues.extend(_explain(error))
    return _merge(issues)


def _merge(issues: list[SchemaIssue]) -> list[SchemaIssue]:
    """Drop duplicates and a "'pkg' is required" that an ``op.ref`` hint already explains."""
    seen: set[tuple[Location, str]] = set()
    ref_hints = {issue.location[:-1] for issue in issues
                 if issue.at_key and issue.location[-1:] == ("ref",) and issue.location[-2:-1] == ("op",)}
    merged = []
    for issue in issues:
        if issue.location in ref_hints and issue.message == "'pkg' is a required property":
            continue
        if (issue.location, issue.message) not in seen:
            seen.add((issue.location, issue.message))
            merged.append(issue)
    return merged


def _explain(error: ValidationError) -> Iterator[SchemaIssue]:
    location: Location = tuple(error.absolute_path)
    validator = error.validator
    if validator in ("oneOf", "anyOf") and error.context:
        yield from _explain_branches(error, location)
    elif validator == "additionalProperties":
        yield from _unknown_keys(error, location)
    elif validator == "type":
        yield SchemaIssue(location, f"expected {_expected(error.validator_value)}, got {_describe(error.instance)}")
    elif validator == "pattern" and error.schema.get("title") == "semVer":
        yield SchemaIssue(location, f"{_short(error.instance)} is not a semantic version "
                                    "(MAJOR.MINOR.PATCH, e.g. 1.0.0)")
    else:
        yield SchemaIssue(location, _shorten_message(error))


def _explain_branches(error: ValidationError, location: Location) -> Iterator[SchemaIssue]:
    branches = [_resolve(branch) for branch in error.validator_value]
    instance = error.instance
    typed = [i for i, branch in enumerate(branches) if _type_matches(branch, instance)]
    if not typed:
        kinds = [t for branch in branches for t in _types(branch)]
        yield SchemaIssue(location, f"expected {_expected(kinds)}, got {_describe(instance)}")
        return
    chosen: int | None = None
    unknown: list[str] = []
    if isinstance(instance, dict):
        keyed = {i: set(branches[i].get("required", ())) for i in typed if branches[i].get("required")}
        if keyed:
            names = sorted({name for required in keyed.values() for name in required})
            matches = [i for i, required in keyed.items() if required <= instance.keys()]
            present = [name for name in names if name in instance]
            if len(present) > 1:
                yield SchemaIssue(location, f"expected exactly one of the keys {_names(names)}; "
                                            f"found {_names(present, 'and')}")
                return
            if len(matches) == 1:
                chosen = matches[0]
            elif not present:
                yield from _no_discriminator(location, instance, names)
                return
        elif all(branches[i].get("additionalProperties") is False for i in typed):
            # Keys no branch knows (e.g. 0.1.6's `type` in constraints): say so once, instead of
            # listing the keys of whichever branch happens to be guessed.
            unknown = [key for key in instance
                       if not any(key in branches[i].get("properties", {}) for i in typed)]
            kind = "an opspec 0.1.5 constraint keyword" if all(
                branches[i].get("title", "").endswith("Constraints") for i in typed) else "allowed here"
            for key in unknown:
                yield SchemaIssue((*location, key), f"{key!r} is not {kind}", at_key=True)
    if chosen is None:
        chosen = min(typed, key=lambda i: _branch_cost(branches[i], instance, error, i))
    skip = {(*location, key) for key in unknown}
    for sub in error.context:
        if sub.relative_schema_path[0] == chosen:
            for issue in _explain(sub):
                if not (issue.at_key and issue.location in skip):
                    yield issue


def _no_discriminator(location: Location, instance: dict[str, Any], names: list[str]) -> Iterator[SchemaIssue]:
    found = list(instance)
    message = f"expected one of the keys {_names(names)}; found " + (_names(found, 'and') if found else "none")
    if "boolean" in found and "string" in names:
        message += "; the boolean param type was added in opspec 0.1.6"
    for key in found:
        if key in _CALL_HINTS:
            yield SchemaIssue((*location, key), _CALL_HINTS[key], at_key=True)
            return
    yield SchemaIssue(location, message)


def _branch_cost(branch: dict[str, Any], instance: Any, error: ValidationError, index: int) -> tuple[int, int]:
    """Lower is a better guess of the branch meant: most keys it knows, then fewest errors."""
    known = 0
    if isinstance(instance, dict):
        properties = branch.get("properties", {})
        known = sum(1 for key in instance if key in properties)
    errors = sum(1 for sub in error.context if sub.relative_schema_path[0] == index)
    return (-known, errors)


def _unknown_keys(error: ValidationError, location: Location) -> Iterator[SchemaIssue]:
    schema = error.schema
    properties: dict[str, Any] = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    instance = error.instance
    for key in instance:
        if key in properties or any(re.search(pattern, key) for pattern in patterns):
            continue
        yield SchemaIssue((*location, key), _unknown_key_message(location, key, properties, patterns), at_key=True)


def _unknown_key_message(location: Location, key: str, properties: dict[str, Any], patterns: list[str]) -> str:
    if not location and key in _TOP_LEVEL_HINTS:
        return _TOP_LEVEL_HINTS[key]
    if location[-1:] == ("op",) and key == "ref":
        return ("'ref' directly under 'op' is opspec 0.1.4/0.1.6 syntax; in 0.1.5 write "
                "op: {pkg: {ref: ...}}")
    if key in _CALL_HINTS:
        return _CALL_HINTS[key]
    if not properties and patterns:
        return f"invalid name {key!r}: must match {' or '.join(patterns)}"
    message = f"unknown key {key!r}"
    same = [name for name in properties if name.lower() == key.lower()]
    if same:
        return f"{message}; did you mean {same[0]!r}? (keys are case-sensitive)"
    message += did_you_mean(key, properties)
    if properties:
        message += f"; expected one of {_names(list(properties))}"
    return message


def did_you_mean(key: str, allowed: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the allowed key closest to a misspelled one, else ''."""
    import difflib  # only when there is a problem to explain

    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.7)  # 0.6 offers dnsNames -> name
    return f" (did you mean {close[0]!r}?)" if close else ""


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    if ref == _DRAFT4:
        return _validator().META_SCHEMA
    name = ref.removeprefix("#/definitions/")
    # Refs met inside `items` point into the draft-04 meta-schema, whose names differ from ours.
    return op_schema()["definitions"].get(name) or _validator().META_SCHEMA["definitions"].get(name, {})


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else list(declared)


def _type_matches(schema: dict[str, Any], instance: Any) -> bool:
    declared = _types(schema)
    return not declared or any(_is_type(instance, name) for name in declared)


def _is_type(instance: Any, name: str) -> bool:
    if name == "null":
        return instance is None
    if name == "boolean":
        return isinstance(instance, bool)
    if isinstance(instance, bool):
        return False
    return {
        "object": isinstance(instance, dict), "array": isinstance(instance, list),
        "string": isinstance(instance, str), "number": isinstance(instance, (int, float)),
        "integer": isinstance(instance, int),
    }.get(name, False)


def _expected(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(dict.fromkeys(types))
    return _names([_KIND.get(name, name) for name in names], "or", quote=False)


def _names(names: list[str], last: str = "or", quote: bool = True) -> str:
    shown = [repr(name) if quote else name for name in names]
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} {last} {shown[-1]}"


def _describe(instance: Any) -> str:
    if instance is None:
        return "null"
    if isinstance(instance, bool):
        return f"boolean {str(instance).lower()}"
    if isinstance(instance, (int, float)):
        return f"number {_short(instance)}"
    if isinstance(instance, str):
        return f"string {_short(instance)}"
    if isinstance(instance, list):
        return f"a sequence of {len(instance)} item{'s' if len(instance) != 1 else ''}"
    keys = list(instance)
    return f"a mapping with keys {_names(keys, 'and')}" if keys else "an empty mapping"


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    if isinstance(value, str):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shorten_message(error: ValidationError) -> str:
    """jsonschema's message, with a long instance repr cut down."""
    message = error.message
    full = repr(error.instance)
    if len(full) > 60 and message.startswith(full):
        message = _short(error.instance) + message[len(full):]
    return message
