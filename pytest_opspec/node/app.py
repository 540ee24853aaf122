"""The node API's aiohttp application: every endpoint module's routes behind one catch-all handler.

The handler dispatches on the raw path through the Router (routing.py), turns ``ApiError`` into
JSON error bodies and any other failure into a logged 500 without a traceback.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from . import events_stream, liveness, ops_kills, ops_starts, pkgs_contents
from .core import Node
from .errors import ApiError, Code, error_response
from .routing import Route, Router

log = logging.getLogger(__name__)



def routes() -> tuple[Route, ...]:
    """Every route, in the order the seed lists the paths; read when an app is created."""
    return (events_stream.ROUTE, liveness.ROUTE, ops_starts.ROUTE, ops_kills.ROUTE,
            pkgs_contents.LIST_ROUTE, pkgs_contents.CONTENT_ROUTE)

NODE_KEY = web.AppKey("node", Node)
ROUTER_KEY = web.AppKey("router", Router)


def create_app(node: Node) -> web.Application:
    app = web.Application(client_max_size=node.settings.max_body_bytes)
    app[NODE_KEY] = node
    app[ROUTER_KEY] = Router(routes())
    app.router.add_route("*", "/{tail:.*}", dispatch)
    app.on_response_prepare.append(_cors_headers)

    async def on_startup(_: web.Application) -> None:
        await node.start()

    async def on_shutdown(_: web.Application) -> None:
        await node.shutdown()

    async def on_cleanup(_: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, node.close)

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


async def dispatch(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE_KEY]
    path = request.raw_path.partition("?")[0]
    try:
        # Before routing: a foreign page learns nothing, not even which paths exist.
        node.settings.access.check_request(request.headers)
        route, params = request.app[ROUTER_KEY].match(path)
        if request.method == "OPTIONS":
            return web.Response(status=204, headers={"Allow": route.allow})
        handler = route.methods.get(request.method)
        if handler is None:
            raise ApiError(405, Code.METHOD_NOT_ALLOWED,
                           f"{route.template} does not support {request.method}; use {route.allow}",
                           headers={"Allow": route.allow})
        return await handler(request, node, params)
    except ApiError as error:
        return error.response()
    except web.HTTPException:
        raise
    except Exception:
        log.exception("%s %s failed", request.method, path)
        return error_response(500, Code.INTERNAL_ERROR,
                              f"the node failed to handle {request.method} {path}; details are in its log")


async def _cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """CORS headers for an origin named by --allow-origin; none for others (unlike the reference's
    gorilla defaults, which let any web page drive the node)."""
    response.headers.update(request.app[NODE_KEY].settings.access.cors_headers(request.headers, request.method))
