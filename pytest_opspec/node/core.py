"""The node's state: ``Node`` owns an Executor, a durable event store and a broker, and their lifecycle.

The endpoint modules get the ``Node`` as an argument (they never import the app); app.py assembles
them into the aiohttp application.
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
from typing import IO

from ..errors import OpspecError
from ..limits import NO_LIMITS, Limits
from ..events.broker import DEFAULT_MAX_LAG, EventBroker
from ..events.bus import EventBus
from ..events.store import EventStore
from ..executor.executor import Executor
from ..options import DEFAULT_NODE_RETAIN_OPS
from ..pkgs.resolve import PackageResolver, PkgOptions
from ..runtime.base import ContainerRuntime
from ..runtime.lease import sweep_dead_leases
from .access import AccessPolicy
from .events_stream import CLOSE_GOING_AWAY, EventSession
from .liveness import LivenessProbe
from .tls import ServerTLS
from .running_ops import RunningOps

log = logging.getLogger(__name__)

# Seconds the shutdown waits for sessions to send the events of the ops it killed.
DRAIN_TIMEOUT = 3.0
# Request bodies (op args) up to this size; larger ones get 400 BODY_TOO_LARGE.
MAX_BODY_BYTES = 64 * 1024 * 1024


class DataDirInUseError(OpspecError):
    pass


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/pytest-opspec/node (~/.local/share/pytest-opspec/node when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "pytest-opspec" / "node"


@dataclass(frozen=True)
class NodeSettings:
    data_dir: Path
    tty: bool = False
    keep_containers: bool = False
    # events a WebSocket subscriber may fall behind the live stream before it is closed (1013)
    max_lag: int = DEFAULT_MAX_LAG
    # seconds between the node's WebSocket pings (a client that stops answering is closed)
    heartbeat: float = 30.0
    # /liveness: seconds an engine ping's answer is reused, and how long a ping may take
    liveness_ttl: float = 1.0
    engine_timeout: float = 2.0
    # ended root ops whose events and scratch files (file and dir outputs) are kept; older ones are deleted
    retain_ops: int = DEFAULT_NODE_RETAIN_OPS
    # the cache of remote packages (default: <data dir>/pkgs); it may be shared with test sessions
    pkg_cache: Path | None = None
    # who may call the API and which host paths args may name (access.py)
    access: AccessPolicy = field(default_factory=AccessPolicy)
    # serve HTTPS; with a client CA, only to clients presenting a certificate it signed
    tls: ServerTLS | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    # limits for every container of every op (opspec node --memory ...)
    limits: Limits = NO_LIMITS


class Node:
    """The pieces behind the API. Create it, serve ``create_app(node)``; the app's shutdown kills
    running ops, removes their containers, closes WebSockets (1001) and stores the last events.

    Like the executor, the node takes a runtime and never builds one; it closes it when it closes."""

    def __init__(self, settings: NodeSettings, runtime: ContainerRuntime) -> None:
        self.settings = settings
        data_dir = Path(settings.data_dir).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self._lock_file = _lock(data_dir / "node.lock")
        self.store: EventStore | None = None
        self.broker: EventBroker
        try:
            self.store = EventStore(data_dir / "events.db")
            self.broker = EventBroker(self.store, max_lag=settings.max_lag, retain_ops=settings.retain_ops,
                                      on_pruned=self._release_pruned)
            # Scratch files of a previous run belong to ops that are gone (their containers too).
            scratch = data_dir / "scratch"
            shutil.rmtree(scratch, ignore_errors=True)
            bus = EventBus(first_seq=self.store.last_seq + 1, min_timestamp_ns=self.store.last_timestamp_ns)
            self.packages = PackageResolver(PkgOptions(cache_dir=settings.pkg_cache or data_dir / "pkgs"))
            self.executor = Executor(
                runtime, data_dir=scratch, bus=bus, tty=settings.tty, keep_containers=settings.keep_containers,
                close_runtime=True, packages=self.packages,
                default_limits=settings.limits,
            )
        except BaseException:
            runtime.close()
            if self.store is not None:
                self.store.close()
            self._lock_file.close()
            raise
        bus.subscribe(self.broker.publish)
        running = RunningOps(data_dir / "running")
        bus.subscribe(running)
        interrupted = running.end_interrupted(bus)
        if interrupted:
            log.warning("ended %d op(s) that were running when the previous node stopped", len(interrupted))
        sweep_dead_leases(self.executor.runtime)
        self.sessions: set[EventSession] = set()
        self.stopping = False
        self.liveness = LivenessProbe(self, ttl=settings.liveness_ttl, timeout=settings.engine_timeout)
        self._closed = False

    def _release_pruned(self, root_op_ids: list[str]) -> None:
        """Retention deleted these root ops' events: delete their scratch files too."""
        for root_op_id in root_op_ids:
            self.executor.release(root_op_id)

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
