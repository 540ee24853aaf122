"""The node op backend: any node through its API (``--opspec-node-url``), with ``NodeOp``, a root op
started there whose events a background reader collects."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from pathlib import Path
from typing import Callable, Mapping

from ..errors import BackendError, OpspecError
from ..events import Event, EventType
from ..executor.result import RunResult, StartedRun
from ..limits import NO_LIMITS, Limits
from ..node.client import NodeClient, NodeError
from ..node.tls import ClientTLS
from ..pkgs.resolve import PackageResolver
from ..values import Value
from ..values.secrets import secrets_of
from .base import SecretParams, StartedOp, interpret_here

log = logging.getLogger(__name__)


class NodeOp(StartedRun):
    """A root op started on a node; a background reader collects its events from the node's stream."""

    # How long to wait for a killed op's opEnded before giving up on the node.
    KILL_GRACE = 60.0

    def __init__(self, client: NodeClient, op_id: str, secret_params: SecretParams,
                 on_event: Callable[[Event], None] | None = None) -> None:
        self.id = op_id
        self._on_event = on_event
        self._client = client
        self._secret_params = secret_params
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._ended = threading.Event()
        self._stream_error: OpspecError | None = None
        # Opened before this returns; `since` the epoch, so the node replays what happened meanwhile.
        self._stream = client.events(since=0, roots=[op_id])
        self._reader = threading.Thread(target=self._read, name=f"opspec-node-{op_id[:8]}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for event in self._stream:
                with self._lock:
                    # Arrival order is the node's order; number the events so results keep it.
                    self._events.append(dataclasses.replace(event, seq=len(self._events) + 1))
                if self._on_event is not None:
                    self._on_event(event)
                if event.type is EventType.OP_ENDED and event.op_id == self.id:
                    return
            self._stream_error = OpspecError(f"the node closed the event stream before op {self.id} ended")
        except OpspecError as error:
            self._stream_error = error
        finally:
            self._stream.close()
            self._ended.set()

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    @property
    def done(self) -> bool:
        return self._ended.is_set()

    def _wait(self, timeout: float | None) -> bool:
        try:
            return self._ended.wait(timeout)
        except BaseException:  # Ctrl-C while waiting: stop the op before leaving
            self._kill_quietly()
            raise

    def _stop_after_timeout(self) -> None:
        self._client.kill_op(self.id)
        self._ended.wait(self.KILL_GRACE)

    def _result(self, timed_out: bool) -> RunResult:
        if self._stream_error is not None:
            raise self._stream_error
        if not self._ended.is_set():
            raise OpspecError(f"op {self.id} did not end within {self.KILL_GRACE:g} s of being killed")
        result = RunResult.from_events(self.id, self.events, timed_out=timed_out, secrets=self._secret_params.secrets)
        secrets_of(self._secret_params.outputs, result.values, into=result.secrets)
        return result

    def kill(self) -> RunResult:
        if not self._ended.is_set():
            self._client.kill_op(self.id)
        return self.finish(self.KILL_GRACE)

    def _kill_quietly(self) -> None:
        try:
            self._client.kill_op(self.id)
            self._ended.wait(self.KILL_GRACE)
        except OpspecError as error:
            log.warning("could not kill op %s on the node: %s", self.id, error)


class NodeBackend:
    """Any node, through its API (``--opspec-node-url``): the same tests check any node.

    Local packages are referred to by their absolute path, so the node must see this machine's files (the
    bundled node, or any node on this host); remote ones by their ref. Interpretation happens here (the API
    has no dry run).
    """

    def __init__(self, url: str, *, timeout: float = 30.0, packages: PackageResolver | None = None,
                 tls: ClientTLS | None = None) -> None:
        self.client = NodeClient(url, timeout=timeout, tls=tls)
        self.packages = packages or PackageResolver()
        self.description = f"node at {url}"
        self._lock = threading.Lock()
        self._started: dict[str, NodeOp] = {}
        self._live: bool | BackendError | None = None

    def start(
        self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path, limits: Limits = NO_LIMITS,
        on_event: Callable[[Event], None] | None = None,
    ) -> StartedOp:
        if limits:
            raise BackendError(f"the node at {self.client.base_url} cannot apply limits ({limits.describe()}): the "
                               "node API has no way to pass them; start the node with them (opspec node --memory ...)")
        package = self.packages.resolve(os.fspath(pkg), [cwd])
        # A remote package goes by its ref (the node resolves it from its own cache); local, vendored and
        # mapped copies by their absolute path.
        remote = package.provenance is not None and package.provenance.source in ("git", "cache")
        try:
            op_id = self.client.start_op(package.ref if remote else str(package.dir), args)
        except NodeError as error:
            if error.status >= 500:  # the node's own fault, not a call that fails
                raise BackendError(f"the node at {self.client.base_url} failed to start the op: {error}") from None
            raise
        started = NodeOp(self.client, op_id, SecretParams.of(package.manifest, args), on_event)
        with self._lock:
            self._started[op_id] = started
        return started

    def check_live(self) -> None:
        """Raise BackendError once (and on every later call) when the node does not serve."""
        if self._live is None:
            try:
                self.client.liveness()
                self._live = True
            except OpspecError as error:
                self._live = BackendError(f"the node at {self.client.base_url} cannot run ops: {error}")
        if isinstance(self._live, BackendError):
            raise self._live

    def interpret(self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path) -> dict[str, Value]:
        return interpret_here(pkg, args, cwd=cwd, packages=self.packages)

    def release(self, op_id: str) -> None:
        with self._lock:
            self._started.pop(op_id, None)

    def close(self) -> None:
        with self._lock:
            running = [op for op in self._started.values() if not op.done]
            self._started.clear()
        for op in running:
            op._kill_quietly()
        self.client.close()
