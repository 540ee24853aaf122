"""Docker implementation of the container runtime (the ``docker`` SDK's low-level API)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Mapping

import docker
import docker.errors
import requests.exceptions
from docker.utils import kwargs_from_env

from ..errors import EngineUnavailableError
from .base import (
    LABEL_HOST,
    LABEL_OWNER,
    LABEL_PID,
    ContainerError,
    ContainerKilled,
    ContainerNotStarted,
    ContainerSpec,
    EngineLostError,
    ImagePullError,
    OutputCallback,
    PullPolicy,
    PullProgressCallback,
    RegistryAuth,
)

log = logging.getLogger(__name__)

# Seconds to wait for the engine to answer at start; the "no engine" error must come quickly.
CONNECT_TIMEOUT = 4.0
# Seconds for ordinary API calls once connected (pulls and streams are not bounded by it).
CALL_TIMEOUT = 120.0


def _engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _short_reason(error: BaseException) -> str:
    text = str(error)
    for marker in ("FileNotFoundError", "ConnectionRefusedError", "PermissionError", "timed out"):
        if marker in text:
            return {
                "FileNotFoundError": "the socket does not exist",
                "ConnectionRefusedError": "the connection was refused",
                "PermissionError": "permission denied on the socket",
                "timed out": "it did not answer in time",
            }[marker]
    return text.splitlines()[0] if text else type(error).__name__


def _split_ref(image: str) -> tuple[str, str | None]:
    """Split an image ref into repository and tag (or digest), as the pull API wants them."""
    if "@" in image:
        repository, digest = image.split("@", 1)
        return repository, digest
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = image.rsplit(":", 1)
        return repository, tag
    return image, "latest"


class DockerRuntime:
    """Runs containers on a Docker engine.

    ``image_map`` rewrites image refs before use (``alpine:3.6`` -> ``local/busybox:1``), so ops written
    for public images run air-gapped. Removal of finished containers happens on a small background pool
    so it stays off the critical path; ``close`` waits for it.
    """

    def __init__(
        self,
        *,
        pull_policy: PullPolicy = PullPolicy.MISSING,
        image_map: Mapping[str, str] | None = None,
        keep_containers: bool = False,
        publish_all_interfaces: bool = False,
    ) -> None:
        self.pull_policy = PullPolicy(pull_policy)
        self.image_map = dict(image_map or {})
        self.keep_containers = keep_containers
        self._host_ip = "0.0.0.0" if publish_all_interfaces else "127.0.0.1"
        self._address = _engine_address()
        try:
            self._api = docker.APIClient(
                **kwargs_from_env(), version="auto", timeout=CONNECT_TIMEOUT, max_pool_size=256
            )
        except docker.errors.DockerException as error:
            raise EngineUnavailableError(
                f"no Docker engine answers at {_engine_address()} ({_short_reason(error)}); "
                "start dockerd or set DOCKER_HOST"
            ) from None
        self._api.timeout = CALL_TIMEOUT
        self._killed: set[str] = set()
        self._lock = threading.Lock()
        self._removals: set[Future[None]] = set()
        self._remover = ThreadPoolExecutor(max_workers=4, thread_name_prefix="opspec-remove")

    # -- engine -------------------------------------------------------------------------------

    def ping(self) -> None:
        try:
            self._api.ping()
        except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
            raise EngineUnavailableError(
                f"the Docker engine at {self._address} does not answer ({_short_reason(error)})"
            ) from None

    # -- images -------------------------------------------------------------------------------

    def map_image(self, image: str) -> str:
        mapped = self.image_map.get(image)
        if mapped is None and _split_ref(image)[1] == "latest" and ":" not in image.rsplit("/", 1)[-1]:
            mapped = self.image_map.get(f"{image}:latest")
        return mapped or image

    def _image_present(self, image: str) -> bool:
        try:
            self._api.inspect_image(image)
            return True
        except docker.errors.NotFound:
            return False

    def pull(self, image: str, auth: RegistryAuth | None, on_progress: PullProgressCallback) -> None:
        repository, tag = _split_ref(image)
        auth_config = {"username": auth.username, "password": auth.password} if auth else None
        try:
            stream = self._api.pull(repository, tag=tag, stream=True, decode=True, auth_config=auth_config)
            for message in stream:
                if "error" in message:
                    raise ImagePullError(f"pulling image {image} failed: {message['error']}")
                on_progress(_progress_line(message))
        except docker.errors.APIError as error:
            raise ImagePullError(f"pulling image {image} failed: {error.explanation or error}") from None
        except requests.exceptions.RequestException as error:
            raise ImagePullError(f"pulling image {image} failed: {error}") from None

    def _prepare_image(self, image: str, auth: RegistryAuth | None, on_progress: PullProgressCallback) -> None:
        if self.pull_policy is PullPolicy.ALWAYS:
            self.pull(image, auth, on_progress)

    def _pull_missing(self, image: str, auth: RegistryAuth | None, on_progress: PullProgressCallback) -> None:
        if self.pull_policy is PullPolicy.NEVER:
            raise ImagePullError(f"image {image} is not present locally and the pull policy is 'never'")
        self.pull(image, auth, on_progress)

    # -- containers ---------------------------------------------------------------------------

    def _create(self, spec: ContainerSpec, image: str) -> str:
        api = self._api
        port_bindings = {
            port: [(self._host_ip, host_port) for host_port in host_ports] for port, host_ports in spec.ports.items()
        }
        host_config = api.create_host_config(
            binds=[f"{m.host_path}:{m.container_path}" for m in spec.mounts],
            port_bindings=port_bindings or None,
            network_mode=spec.network,
            init=False,
        )
        networking_config = None
        if spec.network:
            networking_config = api.create_networking_config(
                {spec.network: api.create_endpoint_config(aliases=list(spec.aliases) or None)}
            )
        exposed = [tuple(port.split("/", 1)) if "/" in port else port for port in spec.ports] or None
        response = api.create_container(
            image,
            name=spec.name,
            entrypoint=list(spec.cmd) if spec.cmd else None,
            command=[] if spec.cmd else None,
            environment=[f"{k}={v}" for k, v in sorted(spec.env.items())],
            working_dir=spec.work_dir or None,
            labels=dict(spec.labels),
            tty=spec.tty,
            ports=exposed,
            host_config=host_config,
            networking_config=networking_config,
        )
        return response["Id"]

    def run(
        self, spec: ContainerSpec, on_output: OutputCallback, on_pull_progress: PullProgressCallback = lambda _: None
    ) -> int:
        image = self.map_image(spec.image)
        self._raise_if_killed(spec.name)
        try:
            self._prepare_image(image, spec.auth, on_pull_progress)
            try:
                container = self._create(spec, image)
            except docker.errors.ImageNotFound:
                self._pull_missing(image, spec.auth, on_pull_progress)
                self._raise_if_killed(spec.name)
                container = self._create(spec, image)
        except docker.errors.APIError as error:
            raise ContainerNotStarted(f"creating the container failed: {error.explanation or error}") from None
        except requests.exceptions.RequestException as error:
            raise EngineLostError(f"the Docker engine at {self._address} stopped answering while creating the "
                                  f"container ({_short_reason(error)})") from None
        try:
            if spec.name in self._killed:
                raise ContainerKilled(spec.name)
            stream = self._api.attach(container, stdout=True, stderr=True, stream=True, logs=False, demux=True)
            try:
                self._api.start(container)
            except docker.errors.APIError as error:
                if spec.name in self._killed:
                    raise ContainerKilled(spec.name) from None
                raise ContainerNotStarted(f"starting the container failed: {error.explanation or error}") from None
            for stdout, stderr in stream:
                if stdout:
                    on_output("stdout", stdout)
                if stderr:
                    on_output("stderr", stderr)
            try:
                exit_code = self._api.wait(container, condition="not-running")["StatusCode"]
            except docker.errors.NotFound:
                raise ContainerKilled(spec.name) from None
            if spec.name in self._killed:
                raise ContainerKilled(spec.name)
            return exit_code
        except requests.exceptions.RequestException as error:
            if spec.name in self._killed:
                raise ContainerKilled(spec.name) from None
            raise EngineLostError(f"lost the connection to the Docker engine at {self._address} while the "
                                  f"container ran ({_short_reason(error)}); it may still be running") from None
        finally:
            self._remove_later(container)

    def _raise_if_killed(self, name: str) -> None:
        if name in self._killed:
            raise ContainerKilled(name)

    def _remove_later(self, container: str) -> None:
        if self.keep_containers:
            return
        future = self._remover.submit(self._remove_container, container)
        with self._lock:
            self._removals.add(future)
        future.add_done_callback(self._forget_removal)

    def _forget_removal(self, future: Future[None]) -> None:
        with self._lock:
            self._removals.discard(future)

    def _remove_container(self, container: str) -> None:
        try:
            self._api.remove_container(container, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            if error.status_code == 409:  # removal already in progress
                return
            log.warning("could not remove container %s: %s", container, error.explanation or error)
        except requests.exceptions.RequestException as error:  # the engine went away; nothing to do from here
            log.warning("could not remove container %s: the engine at %s does not answer (%s)", container,
                        self._address, _short_reason(error))

    def kill(self, name: str) -> None:
        self._killed.add(name)
        self._remove_container(name)

    # -- networks -----------------------------------------------------------------------------

    def create_network(self, name: str, labels: Mapping[str, str]) -> None:
        try:
            self._api.create_network(name, driver="bridge", labels=dict(labels), check_duplicate=True)
        except docker.errors.APIError as error:
            raise ContainerError(f"creating network {name} failed: {error.explanation or error}") from None

    def remove_network(self, name: str) -> None:
        try:
            self._api.remove_network(name)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            log.warning("could not remove network %s: %s", name, error.explanation or error)

    # -- sweeping -----------------------------------------------------------------------------

    def _labelled(self, labels: Mapping[str, str] | list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        selector = [f"{k}={v}" for k, v in labels.items()] if isinstance(labels, Mapping) else labels
        containers = self._api.containers(all=True, filters={"label": selector})
        networks = self._api.networks(filters={"label": selector})
        return containers, networks

    def _remove_all(self, containers: list[dict[str, Any]], networks: list[dict[str, Any]]) -> int:
        for container in containers:
            self._remove_container(container["Id"])
        for network in networks:
            self.remove_network(network["Id"])
        return len(containers) + len(networks)

    def sweep(self, labels: Mapping[str, str]) -> int:
        self.wait_for_removals()
        return self._remove_all(*self._labelled(labels))

    def sweep_stale(self) -> int:
        """Remove what owners on this host left behind when their process died (a crash, SIGKILL)."""
        containers, networks = self._labelled([f"{LABEL_HOST}={socket.gethostname()}"])
        stale_containers = [c for c in containers if _owner_dead(c.get("Labels") or {})]
        stale_networks = []
        for network in networks:
            labels = network.get("Labels") or {}
            if _owner_dead(labels):
                stale_networks.append(network)
        return self._remove_all(stale_containers, stale_networks)

    def list_labelled(self, labels: Mapping[str, str]) -> tuple[list[str], list[str]]:
        """Names of the containers and networks carrying all these labels."""
        containers, networks = self._labelled(labels)
        return [c["Names"][0].lstrip("/") for c in containers], [n["Name"] for n in networks]

    def wait_for_removals(self) -> None:
        while True:
            with self._lock:
                pending = list(self._removals)
            if not pending:
                return
            for future in pending:
                future.result()

    def close(self) -> None:
        self.wait_for_removals()
        self._remover.shutdown(wait=True)
        self._api.close()


def _owner_dead(labels: Mapping[str, str]) -> bool:
    if LABEL_OWNER not in labels:
        return False
    try:
        pid = int(labels.get(LABEL_PID, ""))
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _progress_line(message: Mapping[str, Any]) -> str:
    parts = [str(message[key]) for key in ("id", "status", "progress") if message.get(key)]
    return ": ".join(parts[:2]) + (f" {parts[2]}" if len(parts) > 2 else "")
