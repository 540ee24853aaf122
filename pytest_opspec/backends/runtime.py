"""The one factory of container runtimes, and the sweep of a session's leftovers.

Everything that runs ops on the local engine (the plugin's executor backend, `opspec run`, the node,
``run_op``) gets its runtime here; the executor only takes one. Docker is imported on first use, so
importing this module stays cheap.
"""

from __future__ import annotations

from typing import Mapping, Protocol

from ..runtime.base import LABEL_OWNER, ContainerRuntime, PullPolicy


class RuntimeFactory(Protocol):
    """What makes a runtime: ``make_runtime``, or the plugin's ``pytest_opspec_make_runtime`` hook."""

    def __call__(self, *, image_map: Mapping[str, str], pull_policy: PullPolicy,
                 keep_containers: bool) -> ContainerRuntime: ...


def make_runtime(
    *, image_map: Mapping[str, str] | None = None, pull_policy: PullPolicy | str = PullPolicy.MISSING,
    keep_containers: bool = False,
) -> ContainerRuntime:
    """The local Docker engine as a ContainerRuntime (not yet connected: the first call connects)."""
    from ..runtime.docker import DockerRuntime

    return DockerRuntime(pull_policy=PullPolicy(pull_policy), image_map=dict(image_map or {}),
                         keep_containers=keep_containers)


def sweep_session(owner: str) -> int:
    """Remove every container and network labelled with session ``owner`` (any worker, any pid).

    The session's controller calls this once at the end; it is a no-op when nothing is left.
    """
    from ..runtime.docker import DockerRuntime

    runtime = DockerRuntime(resource_figures=False)  # it only sweeps: no figures to measure, no engine info
    try:
        return runtime.sweep({LABEL_OWNER: owner})
    finally:
        runtime.close()
