"""The node API document (schemas/node-api.openapi.yaml) and JSON-Schema validators for its parts."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
import yaml

from ..events.model import parse_timestamp
from ..resources import schema_path

API_DOCUMENT = "node-api.openapi.yaml"

_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)  # type: ignore[untyped-decorator]  # jsonschema has no types
def _date_time(instance: object) -> bool:
    if isinstance(instance, str):
        parse_timestamp(instance)
    return True


@functools.cache
def api_document(document: str = API_DOCUMENT) -> dict[str, Any]:
    """An API document in schemas/ (by default the node API of opspec 0.1.5)."""
    return yaml.safe_load(schema_path(document).read_text(encoding="utf-8"))


@functools.cache
def schema_validator(schema_json: str, document: str = API_DOCUMENT) -> jsonschema.Draft4Validator:
    """A validator for a schema object (as JSON text) of ``document``, whose components it may ``$ref``.

    OpenAPI 3.0 schema objects are a superset of a draft-04 subset; the keywords these documents use
    mean the same in draft-04.
    """
    schema = {**json.loads(schema_json), "components": api_document(document)["components"]}
    return jsonschema.Draft4Validator(schema, format_checker=_FORMATS)


def component_validator(name: str, document: str = API_DOCUMENT) -> jsonschema.Draft4Validator:
    """A validator for ``#/components/schemas/<name>``, with the document's other components resolvable."""
    return schema_validator(json.dumps({"$ref": f"#/components/schemas/{name}"}), document)


def schema_errors(name: str, instance: Any, document: str = API_DOCUMENT) -> list[str]:
    """Readable messages for everything wrong with ``instance`` as a ``name`` (empty when valid)."""
    return validation_errors(component_validator(name, document), instance)


def validation_errors(validator: jsonschema.Draft4Validator, instance: Any) -> list[str]:
    """Readable messages for everything ``validator`` finds wrong with ``instance`` (empty when valid)."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    messages = []
    for error in errors:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        best = jsonschema.exceptions.best_match([error, *error.context]) if error.context else error
        messages.append(f"{where or '(root)'}: {best.message}")
    return messages
