"""Serving a Node: on the current loop (``NodeServer``), in the foreground until SIGTERM/SIGINT
(``serve``, for `opspec node`), or on a background thread (``BackgroundNode``, for tests and fixtures).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from typing import Callable

from aiohttp import web

from ..errors import OpspecError
from ..options import DEFAULT_NODE_HOST, DEFAULT_NODE_PORT
from ..processes import process_exists
from .access import is_loopback
from .app import create_app
from .core import Node
from .tls import ServerTLS

log = logging.getLogger(__name__)


class ListenError(OpspecError):
    pass


class ExposedNodeError(ListenError):
    """A non-loopback address without mutual TLS: anyone who reaches it could run containers."""


def check_exposure(host: str, tls: ServerTLS | None) -> None:
    """Refuse to serve beyond loopback unless clients must present a certificate (as dockerd's
    --tlsverify): the API runs containers with host mounts, i.e. it hands out the node user's access."""
    if is_loopback(host) or (tls is not None and tls.mutual):
        return
    shown = f"[{host}]" if ":" in host else host or "every interface"
    raise ExposedNodeError(
        f"refusing to listen on {shown}: a node reachable from other machines lets anyone who reaches it run "
        "containers with host mounts; give --tls-cert, --tls-key and --tls-client-ca (mutual TLS: clients must "
        "present a certificate signed by that CA), or listen on a loopback address such as 127.0.0.1")


class NodeServer:
    def __init__(self, node: Node, host: str = DEFAULT_NODE_HOST, port: int = DEFAULT_NODE_PORT) -> None:
        self.node = node
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.node.settings.tls is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        tls = self.node.settings.tls
        check_exposure(self.host, tls)
        ssl_context = tls.context() if tls is not None else None
        runner = web.AppRunner(create_app(self.node), access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True, ssl_context=ssl_context)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            raise ListenError(f"cannot listen on {self.host}:{self.port}: {error.strerror or error}") from None
        self._runner = runner
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:  # the port actually bound (the one asked for, or a free one for port 0)
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, kill running ops and remove their containers, close WebSockets, store
        the last events."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            for site in list(runner.sites):
                await site.stop()
            # Before aiohttp's own shutdown, which stops reading from connections: the WebSocket close
            # handshakes need to read the clients' replies.
            await self.node.shutdown()
            await runner.cleanup()


async def serve(server: NodeServer, on_ready: Callable[[NodeServer], None], watch_pid: int | None = None) -> None:
    """Serve until SIGTERM or SIGINT (or until process ``watch_pid`` is gone), then stop cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.create_task(_stop_when_gone(watch_pid, stop)) if watch_pid is not None else None
    try:
        await server.start()
        on_ready(server)
        await stop.wait()
        log.info("stopping: killing running ops and removing their containers")
    finally:
        if watcher is not None:
            watcher.cancel()
        await server.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _stop_when_gone(pid: int, stop: asyncio.Event) -> None:
    """Set ``stop`` once process ``pid`` no longer exists (its owner crashed or was killed)."""
    while not stop.is_set():
        if not process_exists(pid):
            log.info("process %d is gone", pid)
            stop.set()
            return
        await asyncio.sleep(1.0)


class BackgroundNode:
    """A node served on a thread with its own event loop: ``with BackgroundNode(node) as running:``
    then talk to ``running.url``. Leaving stops it as SIGTERM would."""

    def __init__(self, node: Node, host: str = DEFAULT_NODE_HOST, port: int = 0) -> None:
        self.server = NodeServer(node, host, port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="opspec-node", daemon=True)
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def node(self) -> Node:
        return self.server.node

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> BackgroundNode:
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.server.start())
        except BaseException as error:
            self._error = error
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.server.stop())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def stop(self, timeout: float = 60.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)

    def __enter__(self) -> BackgroundNode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
