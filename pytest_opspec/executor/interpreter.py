"""Runs one root op's call graph: container, op, serial and parallel calls (SEMANTICS §5-§8).

Every call runs on the thread of its parent, except parallel children, which get a thread each. A call
returns its outputs as a value (no re-subscribing to events, SEMANTICS §10.16) or raises CallFailed /
Killed. Events of a call are published by the thread running it, so each branch's events are in order,
and every parent publishes its end event only after all its children have returned.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..errors import OpspecError
from ..events import Event, EventType, Outcome
from ..model import load_op
from ..model.types import Call, ContainerCall, OpCall, OpDefinition, ParallelCall, SerialCall
from ..expressions.evaluate import to_string
from ..limits import NO_LIMITS, Limits
from ..logs import logger
from ..pkgs.refs import Creds
from ..pkgs.resolve import Package, PackageResolver
from ..runtime.base import (LABEL_CONTAINER, LABEL_ROOT_OP, ContainerError, ContainerRuntime, ContainerSpec,
                            EngineLostError)
from ..runtime.exits import ContainerExit, ExitReason
from ..values import Value, ValueType
from ..values.coerce import coerce
from ..values.secrets import Secrets, secrets_of
from .binding import bind_inputs, default_value
from ..model.constraints import validate_value
from .cancel import CancelReason, CancelScope, Killed
from .container import ContainerInterpreter, OutputLines
from .errors import CallFailed
from .ids import new_call_id, new_run_id

if TYPE_CHECKING:
    from ..pkgs.lockfile import LockFile
    from ..pkgs.provenance import Provenance

Scope = dict[str, Value]


# Op calls nest at most this deep; deeper means a cycle between packages (the static checks report
# cycles of local packages, but a run must still end with an error rather than a RecursionError).
MAX_OP_DEPTH = 64


@dataclass(frozen=True, slots=True)
class OpFrame:
    """The op whose `run` graph a call belongs to, and how deep in op calls it sits (the root is 0)."""

    pkg: Package
    op: OpDefinition
    depth: int = 0

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(name for name, param in self.op.inputs.items() if param.is_secret)


class RootRun:
    """State and interpreter of one root op."""

    def __init__(
        self,
        *,
        root_op_id: str,
        runtime: ContainerRuntime,
        publish: Callable[[Event], Event],
        scratch: Path,
        data_dir: Path,
        labels: Mapping[str, str],
        network: str | None,
        tty: bool,
        cancel: CancelScope,
        packages: PackageResolver,
        lock: LockFile | None = None,
        limits: Limits = NO_LIMITS,
    ) -> None:
        self.root_op_id = root_op_id
        self.limits = limits
        self.runtime = runtime
        self._publish = publish
        self.scratch = scratch
        self.data_dir = data_dir
        self.labels = {**labels, LABEL_ROOT_OP: root_op_id}
        self.network = network
        self.tty = tty
        self.cancel = cancel
        # Every value of a secret input or output anywhere in this run; reports and snapshots mask them.
        self.secrets = Secrets()
        # The failure that ended the root op, located in its op.yml (for failure reports).
        self.failure: CallFailed | None = None
        # Resolves op calls' refs; the lock file (if any) pins remote refs for the whole call graph.
        self.packages = packages
        self.lock = lock
        # Every remote package this run used, by ref, in first-use order (provenance for reports).
        self.used_packages: dict[str, Provenance] = {}
        self._used_lock = threading.Lock()

    def record_package(self, package: Package) -> None:
        if package.provenance is not None:
            with self._used_lock:
                self.used_packages.setdefault(package.ref, package.provenance)

    # -- events -------------------------------------------------------------------------------

    def publish(self, event_type: EventType, path: tuple[str, ...], **fields: Any) -> None:
        self._publish(Event(type=event_type, root_op_id=self.root_op_id, call_path=path, **fields))

    # -- dispatch -----------------------------------------------------------------------------

    def run_call(
        self, call: Call, scope: Scope, frame: OpFrame, call_id: str, path: tuple[str, ...], cancel: CancelScope
    ) -> Scope:
        cancel.check()
        if isinstance(call, ContainerCall):
            return self.run_container(call, scope, frame, call_id, path, cancel)
        if isinstance(call, OpCall):
            return self.run_op_call(call, scope, frame, call_id, path, cancel)
        if isinstance(call, SerialCall):
            return self.run_serial(call, scope, frame, call_id, path, cancel)
        if isinstance(call, ParallelCall):
            return self.run_parallel(call, scope, frame, call_id, path, cancel)
        raise CallFailed(f"invalid call graph: unknown call {call!r}")

    # -- serial and parallel ------------------------------------------------------------------

    def run_serial(
        self, call: SerialCall, scope: Scope, frame: OpFrame, call_id: str, path: tuple[str, ...], cancel: CancelScope
    ) -> Scope:
        if not call.calls:
            raise _located(CallFailed("invalid call graph: serial has no calls"), call, frame)
        current = dict(scope)
        try:
            for child in call.calls:
                cancel.check()
                child_id = new_call_id()
                current.update(self.run_call(child, current, frame, child_id, (*path, child_id), cancel))
        finally:
            # Always published, also on failure (partial scope); secret inputs are left out (§10.13).
            visible = {k: v for k, v in current.items() if k not in frame.secret_names}
            self.publish(EventType.SERIAL_CALL_ENDED, path, call_id=call_id, outputs=visible)
        return current

    def run_parallel(
        self, call: ParallelCall, scope: Scope, frame: OpFrame, call_id: str, path: tuple[str, ...], cancel: CancelScope
    ) -> Scope:
        if not call.calls:
            raise _located(CallFailed("invalid call graph: parallel has no calls"), call, frame)
        block = cancel.child()
        failures: list[CallFailed] = []
        lock = threading.Lock()

        def run_child(child: Call, child_id: str) -> None:
            try:
                self.run_call(child, dict(scope), frame, child_id, (*path, child_id), block)
            except Killed:
                pass
            except CallFailed as failure:
                with lock:
                    failures.append(failure)
                # Fail fast within this block only; the rest of the root keeps running (§10.10).
                block.cancel(CancelReason.SIBLING_FAILED)
            except Exception as error:  # a bug must still end the op, not hang it
                logger(__name__).exception("internal error in parallel call %s", child_id)
                with lock:
                    failures.append(CallFailed(f"internal error: {type(error).__name__}: {error}"))
                block.cancel(CancelReason.SIBLING_FAILED)

        threads = []
        for child in call.calls:
            child_id = new_call_id()
            thread = threading.Thread(target=run_child, args=(child, child_id), name=f"opspec-{child_id[:8]}",
                                      daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        self.publish(EventType.PARALLEL_CALL_ENDED, path, call_id=call_id)
        cancel.check()
        if failures:
            first = failures[0]
            raise CallFailed(first.message, pointer=first.pointer, manifest=first.manifest)
        return {}  # children's outputs are not merged (SEMANTICS §7)

    # -- containers ---------------------------------------------------------------------------

    def run_container(
        self, call: ContainerCall, scope: Scope, frame: OpFrame, container_id: str, path: tuple[str, ...],
        cancel: CancelScope,
    ) -> Scope:
        interpreter = ContainerInterpreter(
            pkg_dir=frame.pkg.dir, scratch=self.scratch / "containers" / container_id,
            data_dir=self.data_dir, container_id=container_id,
        )
        try:
            prepared = interpreter.interpret(call, scope)
        except CallFailed as failure:
            raise _located(failure, call, frame) from None
        except OpspecError as problem:
            raise _located(CallFailed(str(problem)), call, frame) from None
        image_ref = prepared.image
        pkg_ref = frame.pkg.ref
        self.publish(EventType.CONTAINER_STARTED, path, container_id=container_id, image_ref=image_ref, pkg_ref=pkg_ref)

        def line_publisher(event_type: EventType) -> Callable[[bytes], None]:
            def publish_line(line: bytes) -> None:
                self.publish(event_type, path, container_id=container_id, image_ref=image_ref, pkg_ref=pkg_ref,
                             data=line)
            return publish_line

        streams = {
            "stdout": OutputLines(line_publisher(EventType.CONTAINER_STDOUT_WRITTEN_TO), call.std_out),
            "stderr": OutputLines(line_publisher(EventType.CONTAINER_STDERR_WRITTEN_TO), call.std_err),
        }

        def on_pull_progress(line: str) -> None:
            # As the reference: progress lines are stdout events with no image or package ref.
            self.publish(EventType.CONTAINER_STDOUT_WRITTEN_TO, path, container_id=container_id, image_ref="",
                         pkg_ref="", data=(line + "\n").encode())

        spec = ContainerSpec(
            name=container_id, image=image_ref, cmd=prepared.cmd, env=prepared.env, work_dir=call.work_dir,
            mounts=prepared.mounts, ports=prepared.ports, network=self.network,
            aliases=[call.name] if (call.name and self.network) else [],
            labels={**self.labels, LABEL_CONTAINER: container_id}, tty=self.tty, auth=prepared.auth,
            limits=self.limits,
        )
        cancel.register(container_id, lambda: self.runtime.kill(container_id))
        try:
            cancel.check()
            ended = self.runtime.run(spec, lambda stream, data: streams[stream].feed(data), on_pull_progress)
        except Killed:
            ended = ContainerExit(ExitReason.KILLED)
        except EngineLostError as lost:
            # Nobody knows that it exited, nor how: no containerExited; the op errs with the engine's error.
            raise _located(CallFailed(str(lost)), call, frame) from None
        except ContainerError as failure:
            ended = ContainerExit(ExitReason.NOT_STARTED, message=str(failure))
        finally:
            cancel.unregister(container_id)
            for lines in streams.values():
                lines.close()
        if ended.reason is ExitReason.KILLED and cancel.reason is CancelReason.TIMED_OUT:
            ended = dataclasses.replace(ended, reason=ExitReason.TIMEOUT)
        killed = ended.reason in (ExitReason.KILLED, ExitReason.TIMEOUT)
        # 137 for a kill, as the engine reports it; none for a container that never ran (the reference
        # reports 0, SEMANTICS §5).
        exit_code = 137 if killed else ended.exit_code
        outputs = dict(prepared.exit_outputs)
        outputs.update(streams["stderr"].bound)
        outputs.update(streams["stdout"].bound)  # stdOut wins over stdErr (SEMANTICS §5)
        self.publish(EventType.CONTAINER_EXITED, path, container_id=container_id, image_ref=image_ref,
                     pkg_ref=pkg_ref, exit_code=exit_code, outputs=outputs, container_exit=ended)
        if killed or (cancel.cancelled and exit_code != 0):
            raise Killed("container killed")
        if ended.reason is ExitReason.NOT_STARTED:
            raise _located(CallFailed(ended.message or "the container did not start"), call, frame)
        if exit_code != 0:
            # The reference's words first (clients match on them), then the reason in plain words.
            why = "" if ended.reason is ExitReason.EXITED else f"; {ended.describe()}"
            raise _located(CallFailed(f"nonzero container exit code. Exit code was: {exit_code}{why}"), call, frame)
        return outputs

    # -- ops ----------------------------------------------------------------------------------

    def run_op_call(
        self, call: OpCall, scope: Scope, frame: OpFrame, op_id: str, path: tuple[str, ...], cancel: CancelScope
    ) -> Scope:
        try:
            if frame.depth >= MAX_OP_DEPTH:
                raise OpspecError(f"op calls nest deeper than {MAX_OP_DEPTH} levels; do the packages call each "
                                  f"other in a cycle? (last call: {call.pkg_ref!r} from {frame.pkg.ref})")
            package = self.packages.resolve(call.pkg_ref, [frame.pkg.dir.parent],
                                            creds=self._pull_creds(call, scope, frame), lock=self.lock)
            self.record_package(package)
            op = load_op(package.manifest)
            inputs = bind_inputs(
                op.inputs, call.inputs, caller_scope=scope, caller_pkg_dir=frame.pkg.dir,
                callee_pkg_dir=package.dir, scratch_dir=self.scratch / "ops" / op_id,
            )
        except OpspecError as error:
            # Interpretation failed: no opStarted, as the reference (SEMANTICS §6).
            failure = _located(CallFailed(str(error)), call, frame)
            self.publish(EventType.OP_ERRED, path, op_id=op_id, pkg_ref=call.pkg_ref, msg=failure.message)
            self.publish(EventType.OP_ENDED, path, op_id=op_id, pkg_ref=call.pkg_ref, outcome=Outcome.FAILED)
            raise failure from None
        outputs, run_outputs = self.run_op(OpFrame(package, op, frame.depth + 1), inputs, op_id, call.pkg_ref,
                                           path, cancel)
        result: Scope = {}
        for name, output_name in call.outputs.items():
            source = output_name or name
            value = outputs.get(source, run_outputs.get(source))
            if value is not None:
                result[name] = value
        return result

    def _pull_creds(self, call: OpCall, scope: Scope, frame: OpFrame) -> Creds | None:
        """The call's ``pkg.pullCreds`` evaluated in the caller's scope (SEMANTICS §1); both must be set."""
        if call.pull_creds is None:
            return None
        try:
            username = to_string(call.pull_creds.username, scope, frame.pkg.dir).data
            password = to_string(call.pull_creds.password, scope, frame.pkg.dir).data
        except OpspecError as error:
            raise OpspecError(f"unable to evaluate pkg.pullCreds: {error}") from None
        if password:
            self.secrets.add_text("pullCreds.password", password)  # masked in everything printed
        return Creds(username, password) if username and password else None

    def run_op(
        self, frame: OpFrame, inputs: Scope, op_id: str, pkg_ref: str, path: tuple[str, ...], cancel: CancelScope
    ) -> tuple[Scope, Scope]:
        """Run an interpreted op; return its declared outputs and its run's raw outputs."""
        secrets_of(frame.op.inputs, inputs, into=self.secrets)
        self.publish(EventType.OP_STARTED, path, op_id=op_id, pkg_ref=pkg_ref)
        try:
            # The op's final scope: its inputs, overlaid by what its run produced (for a serial run, that
            # already is its final scope). Declared outputs are picked from it (§10.1).
            run_outputs: Scope = dict(inputs)
            if frame.op.run is not None:  # no `run`: succeed with the output defaults (§10.9)
                run_id = new_run_id()
                run_outputs.update(self.run_call(frame.op.run, dict(inputs), frame, run_id, (*path, run_id), cancel))
            cancel.check()
            outputs = self._declared_outputs(frame, run_outputs)
        except Killed:
            self.publish(EventType.OP_ENDED, path, op_id=op_id, pkg_ref=pkg_ref, outcome=Outcome.KILLED)
            raise
        except CallFailed as failure:
            self.publish(EventType.OP_ERRED, path, op_id=op_id, pkg_ref=pkg_ref, msg=failure.message)
            self.publish(EventType.OP_ENDED, path, op_id=op_id, pkg_ref=pkg_ref, outcome=Outcome.FAILED)
            raise
        except Exception as error:  # a bug must still end the op with a reason, never leave it hanging
            logger(__name__).exception("internal error in op %s", op_id)
            internal = CallFailed(f"internal error: {type(error).__name__}: {error}")
            self.publish(EventType.OP_ERRED, path, op_id=op_id, pkg_ref=pkg_ref, msg=internal.message)
            self.publish(EventType.OP_ENDED, path, op_id=op_id, pkg_ref=pkg_ref, outcome=Outcome.FAILED)
            raise internal from error
        self.publish(EventType.OP_ENDED, path, op_id=op_id, pkg_ref=pkg_ref, outcome=Outcome.SUCCEEDED, outputs=outputs)
        return outputs, run_outputs

    def _declared_outputs(self, frame: OpFrame, run_outputs: Scope) -> Scope:
        """The op's declared outputs under its own names: produced, else defaulted; then validated (§10.12)."""
        outputs: Scope = {}
        problems: list[str] = []
        for name, param in frame.op.outputs.items():
            value = run_outputs.get(name)
            if value is None and param.has_default:
                value = default_value(param, frame.pkg.dir, None)
            if value is None:
                continue
            outputs[name] = value
            problems.extend(validate_value(value, param))
        if problems:
            raise CallFailed("output(s) invalid:\n" + "\n".join(f"  - {p}" for p in problems),
                             pointer="/outputs", manifest=str(frame.op.path))
        # Declared outputs leave the op with their declared type (a stdOut-bound number is a number).
        for name, value in outputs.items():
            target = frame.op.outputs[name].type
            if value.type is not target and target not in (ValueType.DIR, ValueType.SOCKET):
                outputs[name] = coerce(value, target, self.scratch / "outputs") or value
        secrets_of(frame.op.outputs, outputs, into=self.secrets)
        return outputs


def _located(failure: CallFailed, call: Any, frame: OpFrame) -> CallFailed:
    """Attach the failing call's place in its op.yml, unless a deeper call already did."""
    if not failure.manifest:
        failure.pointer = call.pointer
        failure.manifest = str(frame.op.path)
    return failure
