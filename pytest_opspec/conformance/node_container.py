"""The node under test started from an image (``--node-image``): one container on the local engine,
its port published on loopback only, labelled like everything the project creates (so a crashed
run's container is found by the stale sweep) and removed whatever happens. Its log is attached to the
checks that fail and to the reports.

The docker SDK drives it, not testcontainers: the SDK is already a dependency, and testcontainers'
reaper container would need an image pulled from a registry (docs/compatibility.md).
"""

from __future__ import annotations

import http.client
import secrets
import time
from dataclasses import dataclass

import docker
import docker.errors
import requests.exceptions
from docker.utils import kwargs_from_env

from ..options import DEFAULT_NODE_PORT
from ..runtime.base import LABEL_PREFIX, owner_labels

LABEL_ROLE = f"{LABEL_PREFIX}.role"
ROLE = "conformance-node"
# The node's log attached to a report: its last lines only (a chatty node must not flood a report).
LOG_TAIL_LINES = 200
ENGINE_TIMEOUT = 30  # seconds for any one engine call
POLL_INTERVAL = 0.2


class NodeContainerError(Exception):
    """The node's container could not be started or never answered; the message says which."""


@dataclass(frozen=True)
class NodeImage:
    image: str
    cmd: tuple[str, ...] = ()  # () keeps the image's own command
    port: int = DEFAULT_NODE_PORT
    env: tuple[tuple[str, str], ...] = ()
    volumes: tuple[str, ...] = ()  # SRC:DST:MODE, as options.volume_bind gives them


class NodeContainer:
    """A running node container; ``start`` returns one that answers /liveness, or raises."""

    def __init__(self, api: docker.APIClient, container_id: str, name: str, spec: NodeImage) -> None:
        self._api = api
        self.id = container_id
        self.name = name
        self.spec = spec
        self.url = ""

    @classmethod
    def start(cls, spec: NodeImage, owner: str, extra_volumes: tuple[str, ...] = ()) -> NodeContainer:
        try:
            api = docker.APIClient(**kwargs_from_env(), version="auto", timeout=ENGINE_TIMEOUT)
            api.ping()
        except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
            raise NodeContainerError(f"--node-image needs a local container engine; none answers "
                                     f"({_first_line(error)})") from None
        try:
            api.inspect_image(spec.image)
        except docker.errors.ImageNotFound:
            api.close()
            raise NodeContainerError(f"--node-image {spec.image}: no such image on the local engine (the suite "
                                     "does not pull it: build, load or pull it first)") from None
        name = f"opspec-conformance-node-{secrets.token_hex(4)}"
        volumes = (*spec.volumes, *extra_volumes)
        host_config = api.create_host_config(
            port_bindings={f"{spec.port}/tcp": ("127.0.0.1", None)},  # loopback only, a free port
            binds=list(volumes))
        labels = {**owner_labels(owner), LABEL_ROLE: ROLE}
        try:
            created = api.create_container(spec.image, command=list(spec.cmd) or None, name=name,
                                           environment=dict(spec.env), labels=labels, ports=[spec.port],
                                           host_config=host_config)
        except docker.errors.APIError as error:
            api.close()
            raise NodeContainerError(f"--node-image {spec.image}: the engine refused to create the container "
                                     f"({_first_line(error)})") from None
        node = cls(api, created["Id"], name, spec)
        try:
            api.start(node.id)
            node._raise_if_exited()
            node.url = f"http://127.0.0.1:{node._published_port()}"
        except BaseException as error:
            node.remove()
            if isinstance(error, docker.errors.APIError):
                raise NodeContainerError(f"--node-image {spec.image}: the container did not start "
                                         f"({_first_line(error)})") from None
            raise
        return node

    def _published_port(self) -> int:
        ports = self._api.inspect_container(self.id)["NetworkSettings"]["Ports"] or {}
        bindings = ports.get(f"{self.spec.port}/tcp") or []
        for binding in bindings:
            if binding.get("HostIp") in ("127.0.0.1", "") and binding.get("HostPort"):
                return int(binding["HostPort"])
        raise NodeContainerError(f"the engine published no loopback port for the node's port {self.spec.port}")

    def wait_until_live(self, timeout: float) -> None:
        """Return once GET /liveness gets any HTTP answer; raise NodeContainerError naming liveness when
        the container exits first or nothing answers within ``timeout`` seconds."""
        host, port = "127.0.0.1", int(self.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while True:
            self._raise_if_exited()
            connection = http.client.HTTPConnection(host, port, timeout=min(2.0, timeout))
            try:
                connection.request("GET", "/liveness")
                connection.getresponse().read()
                return
            except (OSError, http.client.HTTPException) as error:
                last_error = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            finally:
                connection.close()
            if time.monotonic() >= deadline:
                raise NodeContainerError(
                    f"the node in container {self.name} ({self.spec.image}) never answered GET /liveness on its "
                    f"port {self.spec.port} (published at {self.url}) within {timeout:g} s ({last_error}); is "
                    f"--node-port right?{self._log_section()}")
            time.sleep(POLL_INTERVAL)

    def _raise_if_exited(self) -> None:
        try:
            state = self._api.inspect_container(self.id).get("State") or {}
        except docker.errors.NotFound:
            state = {"Running": False, "ExitCode": "unknown (the container is gone)"}
        if not state.get("Running"):
            raise NodeContainerError(
                f"the node's container {self.name} ({self.spec.image}) exited with code {state.get('ExitCode')} "
                f"before answering GET /liveness{self._log_section()}")

    def logs(self, since: float | None = None) -> str:
        """The node's stdout and stderr (its last LOG_TAIL_LINES lines), since a ``time.time()``."""
        try:
            data = self._api.logs(self.id, stdout=True, stderr=True, tail=LOG_TAIL_LINES, since=since)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
            return f"(the node's log could not be read: {_first_line(error)})"
        return data.decode("utf-8", errors="replace").rstrip() if isinstance(data, bytes) else str(data)

    def _log_section(self) -> str:
        log = self.logs()
        return f"\nthe node's log:\n{log}" if log else "\nthe node's log is empty"

    def remove(self) -> None:
        try:
            self._api.remove_container(self.id, force=True, v=True)
        except docker.errors.NotFound:
            pass
        finally:
            self._api.close()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
