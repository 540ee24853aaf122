"""What a finished root op looks like to Python code: outcome, outputs, events, containers."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..errors import OpWaitTimeout
from ..events import Event, EventType, Outcome
from ..runtime.exits import ContainerExit, ExitReason, signal_of
from ..values import Value
from ..values.secrets import Secrets

if TYPE_CHECKING:
    from ..pkgs.provenance import Provenance


@dataclass
class ContainerRun:
    """One container of a run, assembled from its events.

    ``stdout`` and ``stderr`` are the bytes the container wrote (``stdout_text``, ``stderr_text`` and
    ``output`` decode them as UTF-8). A container that never started (its image could not be pulled,
    the engine refused it) has ``started`` False, ``exit_code`` None and the reason in ``error``.
    """

    id: str
    image_ref: str
    pkg_ref: str
    call_path: tuple[str, ...]
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None  # None while running or when it never ran
    outputs: Mapping[str, Value] = field(default_factory=dict)
    started: bool = True
    error: str | None = None  # why it never started
    # Why it ended and what it used, as the runtime measured it (None from a node's events alone).
    ended: ContainerExit | None = field(default=None, repr=False)

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")

    @property
    def image(self) -> str:
        return self.image_ref

    @property
    def exit_reason(self) -> str | None:
        """``exited``, ``oom``, ``timeout``, ``killed``, ``not-started`` or ``signal``; None while running.

        From a remote node's events alone (no runtime account) it is read from the exit code.
        """
        if self.ended is not None:
            return self.ended.reason.value
        if not self.started:
            return ExitReason.NOT_STARTED.value
        if self.exit_code is None:
            return None
        return (ExitReason.SIGNAL if signal_of(self.exit_code) else ExitReason.EXITED).value

    @property
    def peak_memory_bytes(self) -> int | None:
        """The most memory (RSS and page cache, as the kernel charges it) the container held at once."""
        return self.ended.peak_memory_bytes if self.ended else None

    @property
    def cpu_seconds(self) -> float | None:
        """CPU time of all its processes, user and system."""
        return self.ended.cpu_seconds if self.ended else None

    @property
    def duration_seconds(self) -> float | None:
        """Wall time from its start to its end."""
        return self.ended.duration_seconds if self.ended else None

    @property
    def output(self) -> str:
        """stdout then stderr, as text."""
        return (self.stdout + self.stderr).decode("utf-8", errors="replace")

    def describe(self) -> str:
        """How it ended in plain words, with its figures: ``out of memory (limit 64 MiB); peak 64 MiB, ...``."""
        if not self.started:
            return f"never started: {self.error or 'no reason given'}"
        if self.ended is None:
            return f"exit code {self.exit_code}" if self.exit_code is not None else "no exit code"
        text = self.ended.describe()
        if self.ended.reason in (ExitReason.OOM, ExitReason.SIGNAL):
            text = f"exit code {self.exit_code}, {text}"
        figures = self.ended.figures()
        return text + (f"; {figures}" if figures else "")

    def to_json(self) -> dict[str, Any]:
        """The container as `opspec run --format json` lists it."""
        return {"id": self.id, "image": self.image_ref, "exit_reason": self.exit_reason, "exit_code": self.exit_code,
                "peak_memory_bytes": self.peak_memory_bytes, "cpu_seconds": self.cpu_seconds,
                "duration_seconds": self.duration_seconds}

    def tail(self, lines: int = 20) -> list[str]:
        """A heading with how it ended, then the last ``lines`` lines of its output (unmasked)."""
        if not self.started:
            return [f"container {self.id} ({self.image_ref}) {self.describe()}"]
        heading = f"container {self.id} ({self.image_ref}) {self.describe()}:"
        return [heading, *(f"  | {line}" for line in self.output.splitlines()[-lines:])]


@dataclass(frozen=True, slots=True)
class CallSite:
    """Where a call is written: its op.yml and the JSON pointer of the call's body in it."""

    manifest: str
    pointer: str


@dataclass
class RunResult:
    """A root op that ended: its outcome, outputs, events and containers."""

    op_id: str
    pkg_ref: str
    outcome: Outcome | None
    values: dict[str, Value]  # the root's outputs as typed Values
    events: list[Event]
    error: str | None = None  # the root's opErred message
    containers: list[ContainerRun] = field(default_factory=list)
    timed_out: bool = False
    # Values of secret inputs and outputs: everything that shows this run masks them.
    secrets: Secrets = field(default_factory=Secrets, repr=False)
    # The call whose failure ended the op, when the runner knows it (the in-process executor does).
    failed_call: CallSite | None = None
    # Every remote package the run used (ref, commit, content digest, source), in first-use order.
    packages: list[Provenance] = field(default_factory=list)
    # Whatever must stay alive for file/dir outputs to remain readable (a run_op scratch directory).
    scratch: Any = field(default=None, repr=False, compare=False)
    # Host path -> the placeholder snapshots show instead: paths that differ from run to run although the
    # op did the same (a test's tmp_path, pytest's base temp dir, the throwaway copies of args).
    stable_paths: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        # Shown by pytest's assertion introspection, so masked like everything else.
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)
        return self.mask(f"RunResult({shown})")

    @property
    def outputs(self) -> dict[str, Any]:
        """The root's outputs as Python values (str, int/float, list, dict, Path)."""
        return {name: value.to_python() for name, value in self.values.items()}

    @property
    def succeeded(self) -> bool:
        return self.outcome is Outcome.SUCCEEDED

    def mask(self, text: str) -> str:
        """``text`` with every secret value replaced by a placeholder naming its param."""
        return self.secrets.mask(text)

    @classmethod
    def from_events(
        cls, op_id: str, events: Iterable[Event], *, timed_out: bool = False, secrets: Secrets | None = None,
        failed_call: CallSite | None = None, packages: Iterable[Provenance] = (),
    ) -> RunResult:
        ordered = sorted((e for e in events if e.root_op_id == op_id), key=lambda e: e.seq)
        containers: dict[str, ContainerRun] = {}
        chunks: dict[tuple[str, EventType], list[bytes]] = {}  # joined once at the end: output can be large
        outcome = None
        values: dict[str, Value] = {}
        error = None
        pkg_ref = ""
        for event in ordered:
            kind = event.type
            if kind is EventType.CONTAINER_STARTED and event.container_id is not None:
                containers[event.container_id] = ContainerRun(
                    event.container_id, event.image_ref or "", event.pkg_ref or "", event.call_path)
            elif kind in (EventType.CONTAINER_STDOUT_WRITTEN_TO, EventType.CONTAINER_STDERR_WRITTEN_TO):
                container = containers.get(event.container_id or "")
                if container is None or not event.pkg_ref:  # image pull progress is not the container's output
                    continue
                chunks.setdefault((container.id, kind), []).append(event.data or b"")
            elif kind is EventType.CONTAINER_EXITED:
                container = containers.get(event.container_id or "")
                if container is not None:
                    container.ended = event.container_exit
                    container.exit_code = event.exit_code
                    container.outputs = dict(event.outputs or {})
                    # An exit without a code: it never ran; the next opErred says why.
                    container.started = event.exit_code is not None
            elif kind is EventType.OP_ERRED:
                for waiting in containers.values():
                    if not waiting.started and waiting.error is None:
                        waiting.error = strip_error_frame(event.msg or "")
                if event.op_id == op_id:
                    error = event.msg
            elif event.op_id == op_id and kind is EventType.OP_ENDED:
                outcome = event.outcome
                values = dict(event.outputs or {})
                pkg_ref = event.pkg_ref or ""
            elif event.op_id == op_id and kind is EventType.OP_STARTED:
                pkg_ref = event.pkg_ref or ""
        for (container_id, kind), parts in chunks.items():
            container = containers[container_id]
            if kind is EventType.CONTAINER_STDOUT_WRITTEN_TO:
                container.stdout = b"".join(parts)
            else:
                container.stderr = b"".join(parts)
        return cls(op_id=op_id, pkg_ref=pkg_ref, outcome=outcome, values=values, events=ordered, error=error,
                   containers=list(containers.values()), timed_out=timed_out,
                   secrets=secrets if secrets is not None else Secrets(), failed_call=failed_call,
                   packages=list(packages))

    def summary(self, tail_lines: int = 20) -> str:
        """A report a person can act on: outcome, error, and the last lines of each container."""
        lines = self.outcome_lines()
        for container in self.containers:
            lines.extend(container.tail(tail_lines))
        return self.mask("\n".join(lines))

    def outcome_lines(self) -> list[str]:
        """How the op ended, and the root's error message (unmasked)."""
        lines = [f"op {self.pkg_ref or self.op_id} ended {self.outcome.value if self.outcome else 'without an outcome'}"
                 + (" (timed out)" if self.timed_out else "")]
        if self.error:
            lines.append("error: " + strip_error_frame(self.error))
        lines.extend(self.package_lines())
        return lines

    def package_lines(self) -> list[str]:
        """The remote packages the run used, one line each: ref, commit (or source), digest."""
        return [f"package {package.ref} @ {package.commit or package.source} ({package.digest})"
                for package in self.packages]


def strip_error_frame(message: str) -> str:
    """The reference's error framing ("\\n-\\n  ...\\n-") and its blank lines are noise in a one-screen report."""
    import textwrap  # here: only a failure is reported, and most runs succeed

    text = textwrap.dedent(re.sub(r"^\s*-\s*\n|\n\s*-\s*$", "", message))
    return "\n".join(line for line in text.splitlines() if line.strip())


class StartedRun:
    """``wait`` and ``finish`` of a started root op, over the three steps each kind of op (the executor's, a
    node's) supplies: ``_wait``, ``_stop_after_timeout`` and ``_result``."""

    id: str

    def wait(self, timeout: float | None = None) -> RunResult:
        """Wait for the end and return the result; past ``timeout`` raise OpWaitTimeout, the op still running."""
        if not self._wait(timeout):
            raise OpWaitTimeout(f"op {self.id} is still running after {timeout:g} s")
        return self._result(False)

    def finish(self, timeout: float | None = None) -> RunResult:
        """Wait for the end; past ``timeout`` kill the op and return its result with ``timed_out`` set."""
        timed_out = not self._wait(timeout)
        if timed_out:
            self._stop_after_timeout()
        return self._result(timed_out)

    def _wait(self, timeout: float | None) -> bool:
        """Whether the op ended within ``timeout``; on Ctrl-C while waiting, stop it before leaving."""
        raise NotImplementedError

    def _stop_after_timeout(self) -> None:
        raise NotImplementedError

    def _result(self, timed_out: bool) -> RunResult:
        raise NotImplementedError
