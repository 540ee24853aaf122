"""POST /ops/kills: kill a root op; 204 once its containers are gone (SEMANTICS §8, §10.17)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Mapping

from aiohttp import web

from ..executor.executor import Executor
from ..runtime.base import LABEL_OWNER, LABEL_ROOT_OP
from .body import get_field, json_kind, read_json_object
from .errors import ApiError, Code
from .routing import Route

if TYPE_CHECKING:
    from .core import Node

log = logging.getLogger(__name__)

EXAMPLE = '{"opId": "<root op id>"}'
# Seconds a kill waits for the op to end (an image pull in progress, for one, cannot be interrupted).
KILL_WAIT = 10.0


async def kill_op(request: web.Request, node: Node, params: Mapping[str, str]) -> web.StreamResponse:
    body = await read_json_object(request, EXAMPLE, node.settings.max_body_bytes)
    op_id = get_field(body, "opId")
    if op_id is None:
        op_id = get_field(body, "opRunId")  # the spec's name; the reference ignores it (SEMANTICS §9)
    if op_id is None:
        raise ApiError(400, Code.OP_ID_REQUIRED, f"opId required; send a body like {EXAMPLE}")
    if not isinstance(op_id, str):
        raise ApiError(400, Code.INVALID_REQUEST, f"opId must be a string, not {json_kind(op_id)}")
    await asyncio.get_running_loop().run_in_executor(None, _kill, node.executor, op_id)
    return web.Response(status=204)


def _kill(executor: Executor, op_id: str) -> None:
    """Kill a root op and return once it ended and its containers are gone.

    Unknown and non-root ids are a no-op, as in the reference: a kill is idempotent. A container whose
    creation raced with the kill is removed by its call right after; the sweep waits for that. Once the
    op is marked ended the kill has done its part, even if the engine is gone and the sweep fails.
    """
    if not executor.kill(op_id):
        return
    ended = executor.wait(op_id, KILL_WAIT) is not None
    try:
        executor.runtime.sweep({LABEL_OWNER: executor.owner, LABEL_ROOT_OP: op_id})
    except Exception as error:  # the engine's client raises many kinds; all mean the same here
        if not ended:
            raise ApiError(500, Code.ENGINE_UNAVAILABLE,
                           f"op {op_id} has not ended and removing its containers failed: {error}") from None
        log.warning("op %s ended, but its containers could not be removed: %s", op_id, error)


ROUTE = Route("/ops/kills", {"POST": kill_op})
