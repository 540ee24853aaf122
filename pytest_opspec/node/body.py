"""Reading JSON request bodies the way the reference does: keys match case-insensitively.

opctl's CLI sends ``{"Args": ..., "Pkg": {"Ref": ..., "PullCreds": null}}`` and ``{"OpId": ...}``
with no Content-Type, so neither exact key case nor the header is required.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from aiohttp import web

from .errors import ApiError, Code


async def read_json_object(request: web.Request, example: str) -> dict[str, Any]:
    """The body as a JSON object; a 400 (or 413) ApiError naming what is wrong otherwise."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as error:
        raise ApiError(413, Code.REQUEST_TOO_LARGE,
                       f"the request body is larger than the node accepts ({error.text})") from None
    if not raw.strip():
        raise ApiError(400, Code.MALFORMED_JSON, f"the request body is empty; expected a JSON object like {example}")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, Code.MALFORMED_JSON, f"the request body is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise ApiError(400, Code.INVALID_REQUEST,
                       f"the request body must be a JSON object like {example}, not {json_kind(document)}")
    return document


def get_field(document: Mapping[str, Any], name: str) -> Any:
    """The value of key ``name`` matched case-insensitively (the last match wins, as in Go), or None."""
    wanted = name.lower()
    found = None
    for key, value in document.items():
        if key.lower() == wanted:
            found = value
    return found


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
