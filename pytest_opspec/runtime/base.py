"""The small interface the executor needs from a container engine."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable, Mapping, Protocol, Sequence

from ..errors import OpspecError
from ..limits import NO_LIMITS, Limits
from .exits import ContainerExit

# Every container and network we create carries these labels, so sweeps find them and nothing else.
LABEL_PREFIX = "io.pytest-opspec"
LABEL_OWNER = f"{LABEL_PREFIX}.owner"  # one id per executor (a pytest session, a node, an `opspec run`)
LABEL_ROOT_OP = f"{LABEL_PREFIX}.root-op"
LABEL_CONTAINER = f"{LABEL_PREFIX}.container"
LABEL_HOST = f"{LABEL_PREFIX}.host"
# The creating process's pid, for people looking at the engine: a pid means nothing in another PID
# namespace, so no sweep judges by it (leases do, runtime/lease.py).
LABEL_PID = f"{LABEL_PREFIX}.pid"


def owner_labels(owner: str) -> dict[str, str]:
    """Labels naming the owner of a resource and the process that made it (see LABEL_PID)."""
    return {LABEL_OWNER: owner, LABEL_PID: str(os.getpid()), LABEL_HOST: socket.gethostname()}


class PullPolicy(StrEnum):
    ALWAYS = "always"
    MISSING = "missing"
    NEVER = "never"


class ContainerError(OpspecError):
    """The engine could not create or run a container (e.g. a missing image)."""


class ContainerNotStarted(ContainerError):
    """The container never ran: its image could not be had, or the engine refused to create or start it."""


class ImagePullError(ContainerNotStarted):
    pass


class EngineLostError(ContainerError):
    """The engine stopped answering while a container ran: whether it still runs is unknown."""


@dataclass(frozen=True, slots=True)
class Mount:
    """A host path bound into a container."""

    host_path: str
    container_path: str


@dataclass(frozen=True, slots=True)
class RegistryAuth:
    """Credentials for pulling an image from its registry."""

    username: str
    password: str


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """Everything the runtime needs to create and start one container."""

    name: str  # engine-level container name; unique
    image: str
    cmd: Sequence[str] | None = None  # replaces the image's ENTRYPOINT and CMD
    env: Mapping[str, str] = field(default_factory=dict)
    work_dir: str | None = None
    mounts: Sequence[Mount] = ()
    # "80/tcp" -> host ports bound to it
    ports: Mapping[str, Sequence[str]] = field(default_factory=dict)
    network: str | None = None
    aliases: Sequence[str] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    tty: bool = False
    auth: RegistryAuth | None = None
    limits: Limits = NO_LIMITS


# on_output(stream, data): stream is "stdout" or "stderr"; data is a raw chunk.
OutputCallback = Callable[[str, bytes], None]
# on_pull_progress(line): one human-readable progress line per message.
PullProgressCallback = Callable[[str], None]


class ContainerRuntime(Protocol):
    def ping(self) -> None:
        """Raise EngineUnavailableError when the engine does not answer."""

    def run(self, spec: ContainerSpec, on_output: OutputCallback,
            on_pull_progress: PullProgressCallback = ...) -> ContainerExit:
        """Make the image available per the pull policy (reporting pull progress), then create, start and
        follow a container to its end; return why it ended and what it used.

        A container removed by ``kill`` ends with reason KILLED. Raises ContainerError if it could not
        be pulled, created or started. The container is removed afterwards (possibly in the background;
        see ``close``).
        """

    def kill(self, name: str) -> None:
        """Force-remove a container now (a no-op when it is already gone)."""

    def create_network(self, name: str, labels: Mapping[str, str]) -> None: ...

    def remove_network(self, name: str) -> None: ...

    def wait_for_removals(self) -> None:
        """Return once containers that finished have been removed."""

    def sweep(self, labels: Mapping[str, str]) -> int:
        """Remove every container and network carrying all these labels; return how many."""

    def may_have_left_some(self) -> bool:
        """Whether a container or network this runtime made may still exist (an answer lost, a failed
        removal), after waiting for background removals; when False, sweeping its labels finds nothing."""

    def sweep_stale(self) -> int:
        """Remove resources whose lease provably has no holder (runtime/lease.py); never a live owner's."""

    def close(self) -> None:
        """Finish background removals; release connections."""
