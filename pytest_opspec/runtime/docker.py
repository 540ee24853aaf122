"""Docker implementation of the container runtime (over engine_api.DockerAPI, the Engine API's HTTP calls)."""

from __future__ import annotations

import contextlib
import fnmatch
import signal
import threading
import time
from typing import Any, Mapping

from ..errors import EngineUnavailableError
from ..logs import logger
from .base import (
    ContainerError,
    ContainerNotStarted,
    ContainerSpec,
    EngineLostError,
    ImagePullError,
    OutputCallback,
    PullPolicy,
    PullProgressCallback,
    RegistryAuth,
)
from ..limits import Limits
from .cgroups import CgroupFigures
from .engine_api import (CALL_TIMEOUT, CONNECT_TIMEOUT, DockerAPI, EngineAPIError, EngineConnectionError,
                         EngineNotFound, engine_address, quoted, registry_auth_header, take_early)
from .exits import ContainerExit, ExitReason, signal_of
from .lease import LABEL_LEASE, lease_gone


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


# Every pull failure says how to run the op on an image that is at hand instead.
_MAP_HINT = ("; to run it as a local image, map it with the image map option (pytest --opspec-image-map, "
             "opspec run/node --image-map, env OPSPEC_IMAGE_MAP, ini opspec_image_map: REF=LOCAL, '*' as a wildcard)")


def _killed_at_memory_limit(exit_code: int | None, limit: int | None, peak: int | None) -> bool:
    """A SIGKILL with memory at the limit is the kernel's OOM killer.

    The engine sets ``OOMKilled`` from an OOM event that can arrive after the exit it caused, so its flag
    alone misses some; our own kills never get here (they are ``killed``/``timeout``).
    """
    return (exit_code == 128 + signal.SIGKILL and limit is not None and peak is not None
            and peak >= limit * 0.9)


class DockerRuntime:
    """Runs containers on a Docker engine.

    ``image_map`` rewrites image refs before use (``alpine:3.6`` -> ``local/busybox:1``), so ops written
    for public images run air-gapped. Finished containers are removed on background threads (a few at a
    time) so that removal stays off the critical path; ``close`` waits for them.
    """

    def __init__(
        self,
        *,
        pull_policy: PullPolicy = PullPolicy.MISSING,
        image_map: Mapping[str, str] | None = None,
        keep_containers: bool = False,
        publish_all_interfaces: bool = False,
        resource_figures: bool = True,
    ) -> None:
        self.pull_policy = PullPolicy(pull_policy)
        self.image_map = dict(image_map or {})
        self.keep_containers = keep_containers
        self._host_ip = "0.0.0.0" if publish_all_interfaces else "127.0.0.1"
        self._address = engine_address()
        # Measure peak memory and cpu time of every container where the engine allows (cgroups.py), which
        # takes the engine's /info: asked early by `opspec run` (engine_api.ask_early), else asked now on a
        # thread of its own so that its answer comes while the caller prepares the first container.
        self._engine_info: Any = None
        early = take_early()
        if early is not None:
            self._api, self._engine_info = early
        else:
            try:
                self._api = DockerAPI(connect_timeout=CONNECT_TIMEOUT, call_timeout=CALL_TIMEOUT)
                self._api.negotiate()
            except EngineConnectionError as error:
                raise EngineUnavailableError(
                    f"no Docker engine answers at {self._address} ({error}); start dockerd or set DOCKER_HOST"
                ) from None
        self._killed: set[str] = set()
        # Names of containers and networks this runtime made that may still exist (created, or an answer lost,
        # and not seen removed); when none, a final sweep of the owner's label has nothing to find.
        self._maybe_left: set[str] = set()
        self._lock = threading.Lock()
        self._removals: set[threading.Thread] = set()
        self._removal_slots = threading.BoundedSemaphore(4)  # removals at once
        self._cgroups: CgroupFigures | None = None
        self._cgroups_checked = not resource_figures
        self._cgroups_lock = threading.Lock()
        self._asking_figures: threading.Thread | None = None
        if self._engine_info is None and resource_figures:
            self._asking_figures = threading.Thread(target=self._ask_figures_early, name="opspec-engine-info",
                                                    daemon=False)
            self._asking_figures.start()

    # -- engine -------------------------------------------------------------------------------

    def ping(self) -> None:
        try:
            self._api.negotiate()
        except EngineConnectionError as error:
            raise EngineUnavailableError(f"the Docker engine at {self._address} does not answer ({error})") from None

    # -- images -------------------------------------------------------------------------------

    def map_image(self, image: str) -> str:
        """The image to run for ``image``: an exact entry first (``alpine`` also matches ``alpine:latest``),
        then the first entry whose ``*`` pattern matches (``opspecpkgs/*=local/busybox:1``)."""
        names = [image]
        if _split_ref(image)[1] == "latest" and ":" not in image.rsplit("/", 1)[-1]:
            names.append(f"{image}:latest")
        for name in names:
            if name in self.image_map:
                return self.image_map[name]
        for pattern, target in self.image_map.items():
            if "*" in pattern and any(fnmatch.fnmatchcase(name, pattern) for name in names):
                return target
        return image

    def pull(self, image: str, auth: RegistryAuth | None, on_progress: PullProgressCallback) -> None:
        repository, tag = _split_ref(image)
        headers = registry_auth_header(auth.username, auth.password) if auth else None
        try:
            with self._api.stream("POST", "/images/create", query={"fromImage": repository, "tag": tag},
                                  headers=headers) as stream:
                for message in stream.messages():
                    if "error" in message:
                        raise ImagePullError(f"pulling image {image} failed: {message['error']}{_MAP_HINT}")
                    on_progress(_progress_line(message))
        except EngineAPIError as error:
            raise ImagePullError(f"pulling image {image} failed: {error.explanation}{_MAP_HINT}") from None
        except EngineConnectionError as error:
            raise ImagePullError(f"pulling image {image} failed: {error}{_MAP_HINT}") from None

    def _prepare_image(self, image: str, auth: RegistryAuth | None, on_progress: PullProgressCallback) -> None:
        if self.pull_policy is PullPolicy.ALWAYS:
            self.pull(image, auth, on_progress)

    def _pull_missing(self, image: str, auth: RegistryAuth | None, on_progress: PullProgressCallback) -> None:
        if self.pull_policy is PullPolicy.NEVER:
            raise ImagePullError(f"image {image} is not present locally and the pull policy is 'never'{_MAP_HINT}")
        self.pull(image, auth, on_progress)

    # -- containers ---------------------------------------------------------------------------

    def _create(self, spec: ContainerSpec, image: str, cgroup_parent: str | None) -> str:
        limits = spec.limits
        network = "none" if limits.no_network else spec.network
        host_config: dict[str, Any] = {
            "Binds": [f"{m.host_path}:{m.container_path}" for m in spec.mounts],
            "PortBindings": {port: [{"HostIp": self._host_ip, "HostPort": host_port} for host_port in host_ports]
                             for port, host_ports in spec.ports.items()},
            "NetworkMode": network or "default",
            "Init": False,
            **_host_limits(limits, cgroup_parent),
        }
        body: dict[str, Any] = {
            "Image": image,
            "Entrypoint": list(spec.cmd) if spec.cmd else None,
            "Cmd": [] if spec.cmd else None,
            "Env": [f"{k}={v}" for k, v in sorted(spec.env.items())],
            "WorkingDir": spec.work_dir or "",
            "Labels": dict(spec.labels),
            "Tty": spec.tty,
            "AttachStdout": True,
            "AttachStderr": True,
            "ExposedPorts": {port: {} for port in spec.ports},
            "HostConfig": host_config,
        }
        if network and not limits.no_network:
            body["NetworkingConfig"] = {"EndpointsConfig": {network: {"Aliases": list(spec.aliases) or None}}}
        created: dict[str, Any] = self._api.call("POST", "/containers/create", query={"name": spec.name}, body=body)
        return str(created["Id"])

    def _ask_figures_early(self) -> None:
        with contextlib.suppress(Exception):  # an odd answer: the first container asks again and meets it
            self._figures()

    def _figures(self) -> CgroupFigures | None:
        """Where exact figures come from on this engine (found out once; asked when the runtime is made)."""
        with self._cgroups_lock:
            if not self._cgroups_checked:
                info, self._engine_info = self._engine_info, None
                try:
                    info = info if info is not None else self._api.call("GET", "/info")
                except (EngineAPIError, EngineConnectionError):
                    return None  # the container's own calls say what is wrong; ask again next time
                local = self._api.address.startswith("unix://")  # a unix socket: this host
                self._cgroups = CgroupFigures.detect(info, local)
                self._cgroups_checked = True
            return self._cgroups

    def run(
        self, spec: ContainerSpec, on_output: OutputCallback, on_pull_progress: PullProgressCallback = lambda _: None
    ) -> ContainerExit:
        image = self.map_image(spec.image)
        killed = ContainerExit(ExitReason.KILLED)
        if spec.name in self._killed:
            return killed
        figures = self._figures()
        cgroup_parent = figures.parent_for(spec.name) if figures else None
        self._maybe_left.add(spec.name)
        try:
            self._prepare_image(image, spec.auth, on_pull_progress)
            try:
                container = self._create(spec, image, cgroup_parent)
            except EngineNotFound:  # no such image
                self._pull_missing(image, spec.auth, on_pull_progress)
                if spec.name in self._killed:
                    return killed
                container = self._create(spec, image, cgroup_parent)
        except EngineAPIError as error:
            self._maybe_left.discard(spec.name)  # refused: nothing was created
            raise ContainerNotStarted(f"creating the container failed: {error.explanation}") from None
        except EngineConnectionError as error:
            raise EngineLostError(f"the Docker engine at {self._address} stopped answering while creating the "
                                  f"container ({error})") from None
        started = ended = None
        try:
            exit_code = None
            if spec.name not in self._killed:
                started = time.monotonic()
                exit_code = self._follow(spec, container, on_output)
                ended = time.monotonic()
            reason = ExitReason.KILLED if exit_code is None else self._reason(container, exit_code)
            # Read before the parent cgroup is handed to the background removal.
            peak, cpu = figures.read(cgroup_parent) if figures and cgroup_parent and started else (None, None)
        finally:
            self._remove_later(container, spec.name, cgroup_parent)
        if reason is ExitReason.SIGNAL and _killed_at_memory_limit(exit_code, spec.limits.memory_bytes, peak):
            reason = ExitReason.OOM
        return ContainerExit(
            reason, exit_code if reason is not ExitReason.KILLED else None,
            signal=sig.name if reason is ExitReason.SIGNAL and (sig := signal_of(exit_code or 0)) else None,
            memory_limit_bytes=spec.limits.memory_bytes, peak_memory_bytes=peak, cpu_seconds=cpu,
            duration_seconds=ended - started if started is not None and ended is not None else None,
        )

    def _follow(self, spec: ContainerSpec, container: str, on_output: OutputCallback) -> int | None:
        """Start the container, stream its output and wait for it; its exit code, or None if it was killed."""
        path = f"/containers/{container}"
        try:
            with self._api.stream("POST", f"{path}/attach", query={"stream": True, "stdout": True, "stderr": True},
                                  upgrade=True) as stream:
                try:
                    self._api.call("POST", f"{path}/start")
                except EngineAPIError as error:
                    if spec.name in self._killed:
                        return None
                    raise ContainerNotStarted(f"starting the container failed: {error.explanation}") from None
                for stream_name, data in stream.output(spec.tty):
                    on_output(stream_name, data)
            try:
                waited = self._api.call("POST", f"{path}/wait", query={"condition": "not-running"})
                exit_code = int(waited["StatusCode"])
            except EngineNotFound:
                return None
        except EngineConnectionError as error:
            if spec.name in self._killed:
                return None
            raise EngineLostError(f"lost the connection to the Docker engine at {self._address} while the "
                                  f"container ran ({error}); it may still be running") from None
        except EngineAPIError as error:
            if spec.name in self._killed:
                return None
            raise ContainerError(f"the Docker engine failed while the container ran: {error.explanation}") from None
        return None if spec.name in self._killed else exit_code

    def _reason(self, container: str, exit_code: int) -> ExitReason:
        """Why a container that ran ended; only a failure costs a look at its state (did the kernel OOM-kill it?)."""
        if exit_code == 0:
            return ExitReason.EXITED
        try:
            oom_killed = self._api.call("GET", f"/containers/{container}/json")["State"].get("OOMKilled", False)
        except EngineNotFound:
            return ExitReason.KILLED
        except (EngineAPIError, EngineConnectionError):
            oom_killed = False
        if oom_killed:
            return ExitReason.OOM
        return ExitReason.SIGNAL if signal_of(exit_code) else ExitReason.EXITED

    def _remove_later(self, container: str, name: str, cgroup_parent: str | None = None) -> None:
        if self.keep_containers and cgroup_parent is None:
            return
        # Not a daemon (threads inherit it from the executor's): an exit must wait for the removal to finish.
        removal = threading.Thread(target=self._remove_in_background, args=(container, name, cgroup_parent),
                                   name=f"opspec-remove-{name[-8:]}", daemon=False)
        with self._lock:
            self._removals.add(removal)
        try:
            removal.start()
        except RuntimeError:  # no thread to be had (a huge parallel op): remove it here instead
            with self._lock:
                self._removals.discard(removal)
            self._remove_container_and_cgroup(container, name, cgroup_parent)

    def _remove_in_background(self, container: str, name: str, cgroup_parent: str | None) -> None:
        try:
            with self._removal_slots:
                self._remove_container_and_cgroup(container, name, cgroup_parent)
        except Exception:  # a bug: said, and the container is left to the final sweep (it is in _maybe_left)
            logger(__name__).exception("could not remove container %s", container)
        finally:
            with self._lock:
                self._removals.discard(threading.current_thread())

    def _remove_container_and_cgroup(self, container: str, name: str, cgroup_parent: str | None) -> None:
        if not self.keep_containers:
            self._remove_container(container, name)
        if cgroup_parent is not None and self._cgroups:
            # A stopped container has no cgroup of its own any more, so its parent can go (even when kept).
            self._cgroups.remove(cgroup_parent)

    def _remove_container(self, container: str, name: str | None = None) -> None:
        try:
            self._api.call("DELETE", f"/containers/{quoted(container)}", query={"force": True, "v": True})
        except EngineNotFound:
            pass
        except EngineAPIError as error:
            if error.status_code != 409:
                logger(__name__).warning("could not remove container %s: %s", container, error.explanation)
                return
            # Another removal is in progress (a reaper's, a sweep's): wait for it, so the container's network
            # can be removed next.
            self._wait_until_gone(container)
        except EngineConnectionError as error:  # the engine went away; nothing to do from here
            logger(__name__).warning("could not remove container %s: the engine at %s does not answer (%s)",
                                     container, self._address, error)
            return
        self._maybe_left.discard(name or container)

    def _wait_until_gone(self, container: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self._api.call("GET", f"/containers/{quoted(container)}/json")
            except (EngineAPIError, EngineConnectionError):  # gone (404), or nothing more to learn
                return
            time.sleep(0.1)

    def kill(self, name: str) -> None:
        self._killed.add(name)
        self._remove_container(name)

    # -- networks -----------------------------------------------------------------------------

    def create_network(self, name: str, labels: Mapping[str, str]) -> None:
        self._maybe_left.add(name)
        try:
            self._api.call("POST", "/networks/create",
                           body={"Name": name, "Driver": "bridge", "Labels": dict(labels), "CheckDuplicate": True})
        except EngineAPIError as error:
            self._maybe_left.discard(name)
            raise ContainerError(f"creating network {name} failed: {error.explanation}") from None
        except EngineConnectionError as error:
            raise ContainerError(f"creating network {name} failed: {error}") from None

    def remove_network(self, name: str) -> None:
        try:
            self._api.call("DELETE", f"/networks/{quoted(name)}")
        except EngineNotFound:
            pass
        except EngineAPIError as error:
            logger(__name__).warning("could not remove network %s: %s", name, error.explanation)
            return
        except EngineConnectionError as error:
            logger(__name__).warning("could not remove network %s: %s", name, error)
            return
        self._maybe_left.discard(name)

    # -- sweeping -----------------------------------------------------------------------------

    def _labelled(self, labels: Mapping[str, str] | list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        selector = [f"{k}={v}" for k, v in labels.items()] if isinstance(labels, Mapping) else labels
        filters = {"label": selector}
        containers = self._api.call("GET", "/containers/json", query={"all": True, "filters": filters})
        networks = self._api.call("GET", "/networks", query={"filters": filters})
        return containers, networks or []

    def _remove_all(self, containers: list[dict[str, Any]], networks: list[dict[str, Any]]) -> int:
        for container in containers:
            self._remove_container(container["Id"])
        for network in networks:
            self.remove_network(network["Id"])
        return len(containers) + len(networks)

    def sweep(self, labels: Mapping[str, str]) -> int:
        self.wait_for_removals()
        return self._remove_all(*self._labelled(labels))

    def may_have_left_some(self) -> bool:
        """Whether a container or network this runtime made may still exist once removals are done."""
        self.wait_for_removals()
        return bool(self._maybe_left)

    def sweep_stale(self) -> int:
        """Remove what owners left behind when they died and their reaper could not clean up (it was
        killed too, or the machine rebooted): only resources whose lease provably has no holder."""
        containers, networks = self._labelled([LABEL_LEASE])
        stale_containers = [c for c in containers
                            if lease_gone(c.get("Labels") or {}, running=c.get("State") == "running")]
        stale_networks = [n for n in networks if lease_gone(n.get("Labels") or {})]
        removed = self._remove_all(stale_containers, stale_networks)
        figures = self._figures()
        if figures:  # after their containers: a cgroup in use cannot be removed
            figures.sweep_stale()
        return removed

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
            for removal in pending:
                removal.join()

    def close(self) -> None:
        if self._asking_figures is not None:
            self._asking_figures.join()
        self.wait_for_removals()
        self._api.close()


def _host_limits(limits: Limits, cgroup_parent: str | None) -> dict[str, Any]:
    """The HostConfig fields (Engine API names) for a container's limits and its figures' cgroup parent."""
    fields: dict[str, Any] = {}
    if limits.memory_bytes is not None:
        # Swap as large as the memory: the limit is all the memory the container gets, swap included.
        fields["Memory"] = fields["MemorySwap"] = limits.memory_bytes
    if limits.cpus is not None:
        fields["NanoCpus"] = round(limits.cpus * 1e9)
    if limits.pids is not None:
        fields["PidsLimit"] = limits.pids
    if cgroup_parent is not None:
        fields["CgroupParent"] = cgroup_parent
    return fields


def _progress_line(message: Mapping[str, Any]) -> str:
    parts = [str(message[key]) for key in ("id", "status", "progress") if message.get(key)]
    return ": ".join(parts[:2]) + (f" {parts[2]}" if len(parts) > 2 else "")
