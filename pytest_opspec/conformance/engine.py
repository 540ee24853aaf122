"""Looking at the node's containers on its container engine (for the kill checks).

The seed says nothing about how a node runs containers; the reference names each Docker container
after its ``containerId`` (SEMANTICS §8), and so does the bundled node. The suite only reads: it
never removes or changes a container.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.utils import kwargs_from_env

from .config import redact_url


@dataclass(frozen=True)
class ContainerState:
    running: bool
    status: str  # the engine's word: running, exited, removing, ...


class Engine:
    def __init__(self, api: docker.APIClient, where: str) -> None:
        self._api = api
        self.where = where

    def state(self, container_id: str) -> ContainerState | None:
        """The container named (or identified by) ``container_id``; None when there is none."""
        try:
            details: dict[str, Any] = self._api.inspect_container(container_id)
        except docker.errors.NotFound:
            return None
        state = details.get("State") or {}
        return ContainerState(bool(state.get("Running")), str(state.get("Status", "")))

    def has_image(self, image: str) -> bool:
        try:
            self._api.inspect_image(image)
        except docker.errors.ImageNotFound:
            return False
        return True

    def close(self) -> None:
        self._api.close()


def open_engine(setting: str, node_is_local: bool) -> tuple[Engine | None, str]:
    """The engine to observe (or None) and, when None, why not.

    ``auto`` means the local engine (DOCKER_HOST or the default socket) when the node runs on this
    host, and nothing otherwise: the local engine would not hold a remote node's containers, so
    looking there would wrongly report them gone.
    """
    if setting == "none":
        return None, "observing containers is turned off (--engine none)"
    if setting == "auto" and not node_is_local:
        return None, "the node is not on this host; pass --engine with the URL of its container engine"
    kwargs = kwargs_from_env() if setting == "auto" else {"base_url": setting}
    where = redact_url(str(kwargs.get("base_url") or "the local engine"))
    try:
        api = docker.APIClient(**kwargs, version="auto", timeout=10)
        api.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        reason = f"no container engine answers at {where} ({str(error).splitlines()[0][:160]})"
        if setting == "auto":
            return None, reason
        raise EngineUnavailable(reason) from None
    return Engine(api, where), ""


class EngineUnavailable(Exception):
    """The engine named by --engine does not answer (the suite cannot do what it was told)."""
