"""GET /liveness: 200 while the node can serve; 500 with the reason when it cannot.

The engine is pinged with a short timeout and the answer cached briefly, so many concurrent
probes cost one engine round trip.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Mapping

from aiohttp import web

from ..errors import EngineUnavailableError
from .errors import ApiError, Code
from .routing import Route

if TYPE_CHECKING:
    from .core import Node


class LivenessProbe:
    def __init__(self, node: Node, *, ttl: float, timeout: float) -> None:
        self._node = node
        self._ttl = ttl
        self._timeout = timeout
        self._checked_at = float("-inf")
        self._problem: ApiError | None = None
        self._pending: asyncio.Future[ApiError | None] | None = None

    async def problem(self) -> ApiError | None:
        """Why the node cannot serve, or None when it can."""
        node = self._node
        if node.stopping:
            return ApiError(500, Code.NODE_STOPPING, "the node is shutting down")
        if not node.broker.writer_alive:
            return ApiError(500, Code.EVENT_STORE_FAILED,
                            f"the event store {node.broker.store.path} cannot be written: {node.broker.failure}")
        if time.monotonic() - self._checked_at < self._ttl:
            return self._problem
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._ping_engine())
        return await asyncio.shield(self._pending)

    async def _ping_engine(self) -> ApiError | None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, self._node.executor.runtime.ping), self._timeout)
            problem = None
        except asyncio.TimeoutError:
            problem = ApiError(500, Code.ENGINE_UNAVAILABLE,
                               f"the container engine did not answer a ping within {self._timeout:g} s")
        except EngineUnavailableError as error:
            problem = ApiError(500, Code.ENGINE_UNAVAILABLE, str(error))
        except Exception as error:  # any engine client failure means the same to a prober
            problem = ApiError(500, Code.ENGINE_UNAVAILABLE, f"pinging the container engine failed: {error}")
        self._problem, self._checked_at, self._pending = problem, time.monotonic(), None
        return problem


async def liveness(request: web.Request, node: Node, params: Mapping[str, str]) -> web.StreamResponse:
    problem = await node.liveness.problem()
    if problem is not None:
        raise problem
    return web.Response(status=200)


ROUTE = Route("/liveness", {"GET": liveness})
