"""The node API document (schemas/node-api.openapi.yaml) and JSON-Schema validators for its parts."""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import yaml

from .events.model import parse_timestamp
from .resources import schema_path

API_DOCUMENT = "node-api.openapi.yaml"

_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _date_time(instance: object) -> bool:
    if isinstance(instance, str):
        parse_timestamp(instance)
    return True


@functools.cache
def api_document() -> dict[str, Any]:
    return yaml.safe_load(schema_path(API_DOCUMENT).read_text(encoding="utf-8"))


@functools.cache
def component_validator(name: str) -> jsonschema.Draft4Validator:
    """A validator for ``#/components/schemas/<name>``, with the document's other components resolvable.

    OpenAPI 3.0 schema objects are a superset of a draft-04 subset; the keywords this document uses
    mean the same in draft-04.
    """
    schema = {"$ref": f"#/components/schemas/{name}", "components": api_document()["components"]}
    return jsonschema.Draft4Validator(schema, format_checker=_FORMATS)


def schema_errors(name: str, instance: Any) -> list[str]:
    """Readable messages for everything wrong with ``instance`` as a ``name`` (empty when valid)."""
    errors = sorted(component_validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    messages = []
    for error in errors:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        best = jsonschema.exceptions.best_match([error, *error.context]) if error.context else error
        messages.append(f"{where or '(root)'}: {best.message}")
    return messages
