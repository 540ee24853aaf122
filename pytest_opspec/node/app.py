"""The node: an Executor, a durable event store and a broker behind the node API (aiohttp).

``Node`` owns the pieces and their lifecycle; ``create_app`` builds the aiohttp application whose
single catch-all handler dispatches on the raw path through the route registry (routes.py), turns
``ApiError`` into JSON error bodies and any other failure into a logged 500 without a traceback.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Mapping

from aiohttp import web

from ..errors import OpspecError
from ..events.broker import DEFAULT_MAX_LAG, EventBroker
from ..events.bus import EventBus
from ..events.store import EventStore
from ..executor import Executor
from ..runtime.base import ContainerRuntime, PullPolicy
from .errors import ApiError, Code, error_response
from .events_stream import CLOSE_GOING_AWAY, EventSession
from .liveness import LivenessProbe
from .routes import Router, registry

log = logging.getLogger(__name__)

# Request bodies (op args) up to this size; larger ones get 413.
MAX_BODY_BYTES = 64 * 1024 * 1024
# Seconds the shutdown waits for sessions to send the events of the ops it killed.
DRAIN_TIMEOUT = 3.0
CORS_METHODS = "GET, HEAD, POST"
CORS_HEADERS = "Accept, Accept-Language, Content-Language, Content-Type, Origin, Range, Authorization"
CORS_EXPOSE = "Accept-Ranges, Content-Length, Content-Range"


class DataDirInUseError(OpspecError):
    pass


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/pytest-opspec/node (~/.local/share/pytest-opspec/node when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "pytest-opspec" / "node"


@dataclass(frozen=True)
class NodeSettings:
    data_dir: Path
    image_map: Mapping[str, str] = field(default_factory=dict)
    pull_policy: PullPolicy = PullPolicy.MISSING
    tty: bool = False
    keep_containers: bool = False
    # events a WebSocket subscriber may fall behind the live stream before it is closed (1013)
    max_lag: int = DEFAULT_MAX_LAG
    # seconds between the node's WebSocket pings (a client that stops answering is closed)
    heartbeat: float = 30.0
    # /liveness: seconds an engine ping's answer is reused, and how long a ping may take
    liveness_ttl: float = 1.0
    engine_timeout: float = 2.0
    # ended ops whose scratch files (file and dir outputs) are kept; older ones are deleted
    retain_ops: int = 200


class Node:
    """The pieces behind the API. Create it, serve ``create_app(node)``; the app's shutdown kills
    running ops, removes their containers, closes WebSockets (1001) and stores the last events."""

    def __init__(self, settings: NodeSettings, runtime: ContainerRuntime | None = None) -> None:
        self.settings = settings
        data_dir = Path(settings.data_dir).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self._lock_file = _lock(data_dir / "node.lock")
        self.store: EventStore | None = None
        self.broker: EventBroker
        try:
            self.store = EventStore(data_dir / "events.db")
            self.broker = EventBroker(self.store, max_lag=settings.max_lag)
            # Scratch files of a previous run belong to ops that are gone (their containers too).
            scratch = data_dir / "scratch"
            shutil.rmtree(scratch, ignore_errors=True)
            bus = EventBus(first_seq=self.store.last_seq + 1, min_timestamp_ns=self.store.last_timestamp_ns)
            self.executor = Executor(
                runtime, data_dir=scratch, bus=bus, image_map=settings.image_map,
                pull_policy=settings.pull_policy, tty=settings.tty, keep_containers=settings.keep_containers,
                retain_ended=settings.retain_ops,
            )
        except BaseException:
            if self.store is not None:
                self.store.close()
            self._lock_file.close()
            raise
        bus.subscribe(self.broker.publish)
        try:
            swept = self.executor.runtime.sweep_stale()
            if swept:
                log.info("removed %d containers/networks left by nodes that died", swept)
        except Exception as error:
            log.warning("could not sweep stale containers: %s", error)
        self.sessions: set[EventSession] = set()
        self.stopping = False
        self.liveness = LivenessProbe(self, ttl=settings.liveness_ttl, timeout=settings.engine_timeout)
        self._closed = False

    async def start(self) -> None:
        """Run on the serving loop before requests arrive."""
        loop = asyncio.get_running_loop()
        # Engine calls, kills and store reads run in threads; the default pool (cores + 4) is too small.
        loop.set_default_executor(ThreadPoolExecutor(max_workers=64, thread_name_prefix="opspec-node"))
        self.broker.attach(loop)

    async def shutdown(self) -> None:
        """Kill running ops, remove their containers, let sessions send those events, close them."""
        if self.stopping:
            return
        self.stopping = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.executor.close)
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while time.monotonic() < deadline and not all(s.caught_up() for s in list(self.sessions)):
            await asyncio.sleep(0.05)
        await asyncio.gather(*(s.close(CLOSE_GOING_AWAY, "the node is shutting down", DRAIN_TIMEOUT)
                               for s in list(self.sessions)), return_exceptions=True)

    def close(self) -> None:
        """Store the remaining events and release the data dir (after ``shutdown``)."""
        if self._closed:
            return
        self._closed = True
        self.executor.close()
        self.broker.close()
        self._lock_file.close()


def _lock(path: Path) -> IO[str]:
    """Hold the data dir for this process: two nodes on one event store would interleave seqs."""
    handle = open(path, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise DataDirInUseError(f"the data dir {path.parent} is in use by another node (pid {owner}); "
                                "stop it or choose another --data-dir") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


# -- the aiohttp application ---------------------------------------------------------------------

NODE_KEY = web.AppKey("node", Node)
ROUTER_KEY = web.AppKey("router", Router)


def create_app(node: Node) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[NODE_KEY] = node
    app[ROUTER_KEY] = Router(registry())
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
    """Any origin may call the API, as with the reference (gorilla's CORS defaults)."""
    if "Origin" not in request.headers:
        return
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
