"""Reading JSON request bodies the way the reference does: keys match case-insensitively.

opctl's CLI sends ``{"Args": ..., "Pkg": {"Ref": ..., "PullCreds": null}}`` and ``{"OpId": ...}``
with no Content-Type, so neither exact key case nor the header is required. Bodies are bounded in
size (the app's ``client_max_size``) and in nesting (MAX_JSON_DEPTH, as op.yml files are): both are 400s
naming the limit, since the seed lists no 413 for these endpoints.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from aiohttp import web

from .errors import ApiError, Code

# Deepest nesting of arrays and objects in a body (op args included); op.yml files have the same limit.
MAX_JSON_DEPTH = 100


async def read_json_object(request: web.Request, example: str, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object; a 400 ApiError naming what is wrong otherwise. ``max_bytes`` is the
    app's ``client_max_size`` (named in the message)."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(400, Code.BODY_TOO_LARGE,
                       f"the request body is larger than the {max_bytes} bytes the node accepts") from None
    if not raw.strip():
        raise ApiError(400, Code.MALFORMED_JSON, f"the request body is empty; expected a JSON object like {example}")
    too_deep = ApiError(400, Code.JSON_TOO_DEEP,
                        f"the request body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels")
    try:
        document = json.loads(raw)
    except RecursionError:  # deeper than the parser goes
        raise too_deep from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, Code.MALFORMED_JSON, f"the request body is not valid JSON ({error})") from None
    if _depth_exceeds(document, MAX_JSON_DEPTH):
        raise too_deep
    if not isinstance(document, dict):
        raise ApiError(400, Code.INVALID_REQUEST,
                       f"the request body must be a JSON object like {example}, not {json_kind(document)}")
    return document


def _depth_exceeds(document: Any, limit: int) -> bool:
    """True when ``document`` nests containers deeper than ``limit`` (walked without recursion)."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            pending.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return False


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
