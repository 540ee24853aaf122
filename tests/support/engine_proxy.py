"""A Unix-socket proxy in front of the Docker engine, so a test can take the engine away from one
process (cut every connection, refuse new ones) without touching the engine others share."""

from __future__ import annotations

import os
import selectors
import socket
import threading
from pathlib import Path


def engine_socket_path() -> str:
    """The engine's Unix socket, as DOCKER_HOST names it (the default socket when unset)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        raise RuntimeError(f"DOCKER_HOST={host} is not a Unix socket; the engine proxy needs one")
    return host.removeprefix("unix://")


class EngineProxy:
    """``with EngineProxy(path) as proxy:`` forwards ``unix://path`` to the engine's socket;
    ``proxy.cut()`` closes every connection and stops accepting (the engine is gone, for its clients)."""

    def __init__(self, path: Path, engine_socket: str | None = None) -> None:
        self.path = path
        self.engine_socket = engine_socket or engine_socket_path()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen(64)
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._cut = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="engine-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def __enter__(self) -> EngineProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()

    def _accept(self) -> None:
        while not self._cut.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.engine_socket)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._cut.is_set():
                    client.close()
                    upstream.close()
                    return
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while not self._cut.is_set():
                for key, _ in selector.select(timeout=0.2):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            upstream.close()

    def cut(self) -> None:
        """The engine disappears for this proxy's clients: connections drop, new ones are refused."""
        with self._lock:
            self._cut.set()
            self._listener.close()
            for client, upstream in self._pairs:
                for end in (client, upstream):
                    try:
                        end.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self._thread.join(5)
