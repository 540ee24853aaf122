"""POST /ops/kills: kill a root op; 204 once its containers are gone (SEMANTICS §8, §10.17)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Mapping

from aiohttp import web

from .body import get_field, json_kind, read_json_object
from .errors import ApiError, Code
from .routes import Route

if TYPE_CHECKING:
    from .app import Node

EXAMPLE = '{"opId": "<root op id>"}'


async def kill_op(request: web.Request, node: Node, params: Mapping[str, str]) -> web.StreamResponse:
    body = await read_json_object(request, EXAMPLE)
    op_id = get_field(body, "opId")
    if op_id is None:
        op_id = get_field(body, "opRunId")  # the spec's name; the reference ignores it (SEMANTICS §9)
    if op_id is None:
        raise ApiError(400, Code.OP_ID_REQUIRED, f"opId required; send a body like {EXAMPLE}")
    if not isinstance(op_id, str):
        raise ApiError(400, Code.INVALID_REQUEST, f"opId must be a string, not {json_kind(op_id)}")
    # Unknown and non-root ids are a no-op, as in the reference: a kill is idempotent.
    await asyncio.get_running_loop().run_in_executor(None, node.executor.kill, op_id)
    return web.Response(status=204)


ROUTE = Route("/ops/kills", {"POST": kill_op})
