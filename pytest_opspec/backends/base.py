"""What the pytest fixtures and scenario items run ops on: a small "op backend" interface.

The fixtures and scenario items only ever talk to an ``OpBackend``: start an op with typed args and get
a ``StartedOp`` (its id, its events so far, wait, kill), interpret an op without running it, release
an ended op's files, close. ``ExecutorBackend`` runs ops in-process on the bundled executor; a
node-backed implementation (``--opspec-node-url``) drives any node through a NodeClient with the same
interface, and ``RunResult.from_events`` builds results from any node's events.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Callable, Mapping, Protocol

from ..errors import OpspecError
from ..events import Event
from ..executor.executor import interpret_op
from ..executor.result import RunResult
from ..model import Param, load_op
from ..pkgs.resolve import PackageResolver
from ..limits import NO_LIMITS, Limits
from ..values import Value
from ..values.secrets import Secrets, secrets_of


class StartedOp(Protocol):
    """A root op that was started on a backend."""

    id: str

    @property
    def events(self) -> list[Event]:
        """Its events so far, in order."""

    @property
    def done(self) -> bool:
        """Whether it has ended."""

    def wait(self, timeout: float | None = None) -> RunResult:
        """Wait for its end and return the result; past ``timeout`` raise OpWaitTimeout and leave it running.

        A KeyboardInterrupt while waiting kills the op before it propagates.
        """

    def finish(self, timeout: float | None = None) -> RunResult:
        """Wait for its end; past ``timeout`` kill it and return the result with ``timed_out`` set."""

    def kill(self) -> RunResult:
        """Kill it and wait for its end."""


class OpBackend(Protocol):
    """Runs ops for a pytest session (or one xdist worker of it)."""

    #: Says what runs the ops, for the session header and failure reports.
    description: str

    def start(
        self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path, limits: Limits = NO_LIMITS,
        on_event: Callable[[Event], None] | None = None,
    ) -> StartedOp:
        """Start ``pkg`` (resolved against ``cwd`` when relative) as a root op with ``args``; ``on_event`` gets
        each of its events as it comes.

        ``limits`` apply to every container of the op, over the backend's own defaults. Raises
        OpspecError when the package does not resolve or the backend cannot run ops (no engine, no node,
        limits it cannot apply); everything after that is reported through the op's events.
        """

    def interpret(self, pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path) -> dict[str, Value]:
        """Resolve and load ``pkg`` and bind its inputs from ``args``, starting nothing.

        Returns the bound inputs; raises OpspecError listing every problem. Never needs an engine.
        """

    def release(self, op_id: str) -> None:
        """Forget an ended op and delete its files (its file and dir outputs stop being readable)."""

    def close(self) -> None:
        """Kill what still runs and remove everything this backend created."""


def interpret_here(pkg: str | os.PathLike[str], args: Mapping[str, Value], *, cwd: Path,
                   packages: PackageResolver) -> dict[str, Value]:
    """Interpretation happens in this process for every backend: the node API has no dry run."""
    with tempfile.TemporaryDirectory(prefix="opspec-interpret-") as scratch:
        return interpret_op(os.fspath(pkg), args, cwd=cwd, scratch_dir=Path(scratch), packages=packages)


@dataclasses.dataclass(frozen=True)
class SecretParams:
    """What a client can know of an op's secrets (a node's events do not say): the args it gave to secret
    inputs, and which outputs are secret."""

    secrets: Secrets
    outputs: Mapping[str, Param]

    @classmethod
    def of(cls, manifest: Path, args: Mapping[str, Value]) -> SecretParams:
        try:
            op = load_op(manifest)
        except OpspecError:
            return cls(Secrets(), {})
        return cls(secrets_of(op.inputs, args), op.outputs)

