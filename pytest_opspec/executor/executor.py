"""The executor: starts root ops on a container runtime, kills them, and cleans up after them."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from ..errors import OpspecError
from ..limits import NO_LIMITS, Limits
from ..logs import logger
from ..events import EventType, Outcome
from ..events.bus import EventBus
from ..model import load_op
from ..pkgs.discover import nearest_lock_file
from ..pkgs.refs import Creds, is_remote_ref
from ..pkgs.resolve import Package, PackageResolver
from ..runtime.base import LABEL_ROOT_OP, ContainerError, ContainerRuntime, owner_labels
from ..runtime.lease import Lease
from ..values import Value
from ..values.secrets import secrets_of
from .binding import bind_inputs
from .cancel import CancelReason, CancelScope, Killed
from .errors import CallFailed
from .ids import new_root_op_id
from .interpreter import OpFrame, RootRun
from .network import needs_network

if TYPE_CHECKING:
    from ..pkgs.lockfile import LockFile


class ExecutorClosedError(OpspecError):
    pass


@dataclass
class RootOp:
    """A started root op."""

    id: str
    package: Package
    cancel: CancelScope
    lock: LockFile | None = None
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None
    run: RootRun | None = None
    thread: threading.Thread | None = None
    release_when_done: bool = False  # release() was called while it ran


@dataclass(frozen=True)
class RootPackage:
    """A root op's package and the lock file its whole call graph honours."""

    package: Package
    lock: LockFile | None


def resolve_root(packages: PackageResolver, pkg_ref: str | Path, cwd: Path | None,
                 creds: Creds | None = None) -> RootPackage:
    """A root ref's package (looked up in ``cwd`` as the CLI does) and the nearest ``opspec.lock`` in the
    package's directory or above (for a remote root: in ``cwd`` or above; without a ``cwd``, as for a node's
    start, none)."""
    text = os.fspath(pkg_ref)
    lookup = [cwd] if cwd else []
    if is_remote_ref(text):
        lock = _lock_file_near(cwd) if cwd else None
        return RootPackage(packages.resolve(text, lookup, creds=creds, lock=lock), lock)
    package = packages.resolve(text, lookup, creds=creds)
    return RootPackage(package, _lock_file_near(package.dir))


def _lock_file_near(start: Path) -> LockFile | None:
    path = nearest_lock_file(start)
    if path is None:
        return None
    from ..pkgs.lockfile import LockFile  # here: a run without a lock file reads none

    return LockFile.load(path)


def interpret_op(
    pkg_ref: str | Path, args: Mapping[str, Value], *, cwd: Path | None = None, scratch_dir: Path,
    packages: PackageResolver,
) -> dict[str, Value]:
    """Resolve and load an op and bind its inputs from ``args``, starting nothing (a dry run).

    Raises OpspecError (a resolution, manifest or input problem) with every problem listed.
    """
    package = resolve_root(packages, pkg_ref, cwd).package
    op = load_op(package.manifest)
    return bind_inputs(op.inputs, args, caller_scope=args, caller_pkg_dir=package.dir, callee_pkg_dir=package.dir,
                       scratch_dir=scratch_dir, implicit_root=True, cwd=cwd, callee_ref=package.ref)


class Executor:
    """Runs root ops. Thread-safe; one per pytest session, node or `opspec run`.

    It takes a runtime and never builds one (backends/runtime.py has the one factory); with
    ``close_runtime`` the executor closes it on ``close``. Every container and network is labelled with
    this executor's owner id and with its lease (runtime/lease.py: its reaper removes them if this process
    dies); ``close`` kills what still runs, waits, and removes all of it. ``data_dir`` holds scratch files
    of runs (the lease's private scratch dir when not given). Ended root ops (and their scratch files: file
    and dir outputs) are kept until ``release``; a node releases those its event retention prunes.
    """

    def __init__(
        self,
        runtime: ContainerRuntime,
        *,
        data_dir: str | Path | None = None,
        bus: EventBus | None = None,
        tty: bool = False,
        owner: str | None = None,
        keep_containers: bool = False,
        close_runtime: bool = False,
        packages: PackageResolver | None = None,
        default_limits: Limits = NO_LIMITS,
        lease: Lease | None = None,
    ) -> None:
        self._close_runtime = close_runtime
        self.runtime = runtime
        self.keep_containers = keep_containers
        self.packages = packages or PackageResolver()
        self.owner = owner or os.urandom(16).hex()
        self._owns_lease = lease is None
        self.lease = lease or Lease.acquire("opspec")
        # Kept containers are the user's to remove: no reaper or sweep may take them.
        self.labels = {**owner_labels(self.owner), **({} if keep_containers else self.lease.labels)}
        self.data_dir = Path(self.lease.scratch if data_dir is None else data_dir).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.bus = bus or EventBus()
        self.tty = tty
        self._roots: dict[str, RootOp] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._network_cleanups: list[threading.Thread] = []
        # Limits for every op (a node's --memory...); a start's own limits override them field by field.
        self.default_limits = default_limits

    # -- starting -----------------------------------------------------------------------------

    def resolve(self, pkg_ref: str | Path, cwd: Path | None = None, creds: Creds | None = None) -> RootPackage:
        return resolve_root(self.packages, pkg_ref, cwd, creds)

    def start(
        self, pkg_ref: str | Path | RootPackage, args: Mapping[str, Value] | None = None, *,
        cwd: Path | None = None, creds: Creds | None = None, limits: Limits = NO_LIMITS,
    ) -> str:
        """Resolve the package and start it as a root op; return the root op id.

        Raises OpspecError when the package does not resolve. Everything after resolution (manifest,
        inputs, the run) is reported through events, ending with the root's ``opEnded``. ``cwd`` makes
        relative refs and relative dir/file defaults resolve against it (the CLI's behaviour).
        ``limits`` apply to every container of the op, over the executor's ``default_limits``.
        """
        resolved = pkg_ref if isinstance(pkg_ref, RootPackage) else self.resolve(pkg_ref, cwd, creds)
        args = dict(args or {})
        root_op_id = new_root_op_id()
        root = RootOp(id=root_op_id, package=resolved.package, cancel=CancelScope(), lock=resolved.lock)
        with self._lock:
            if self._closed:
                raise ExecutorClosedError("the executor is closed")
            self._roots[root_op_id] = root
        root.thread = threading.Thread(
            target=self._run_root, args=(root, args, cwd, limits.over(self.default_limits)),
            name=f"opspec-root-{root_op_id[:8]}", daemon=True
        )
        root.thread.start()
        return root_op_id

    def _run_root(self, root: RootOp, args: dict[str, Value], cwd: Path | None, limits: Limits) -> None:
        scratch = self.data_dir / "runs" / root.id
        run = RootRun(
            root_op_id=root.id, runtime=self.runtime, publish=self.bus.publish, scratch=scratch,
            data_dir=self.data_dir, labels=self.labels, network=None, tty=self.tty, cancel=root.cancel,
            packages=self.packages, lock=root.lock, limits=limits,
        )
        run.record_package(root.package)
        root.run = run
        path = (root.id,)
        package = root.package
        try:
            try:
                op = load_op(package.manifest)
                secrets_of(op.inputs, args, into=run.secrets)  # also when binding fails
                inputs = bind_inputs(
                    op.inputs, args, caller_scope=args, caller_pkg_dir=package.dir, callee_pkg_dir=package.dir,
                    scratch_dir=scratch / "ops" / root.id, implicit_root=True, cwd=cwd, callee_ref=package.ref,
                )
                if not limits.no_network and needs_network(op, self.packages):
                    run.network = self._create_network(root.id)
            except OpspecError as error:
                # Interpretation failed: no opStarted, as the reference (SEMANTICS §6).
                run.publish(EventType.OP_ERRED, path, op_id=root.id, pkg_ref=package.ref, msg=str(error))
                run.publish(EventType.OP_ENDED, path, op_id=root.id, pkg_ref=package.ref, outcome=Outcome.FAILED)
                root.outcome = Outcome.FAILED
                return
            try:
                run.run_op(OpFrame(package, op), inputs, root.id, package.ref, path, root.cancel)
                root.outcome = Outcome.SUCCEEDED
            except CallFailed as failure:
                run.failure = failure
                root.outcome = Outcome.FAILED
            except Killed:
                root.outcome = Outcome.KILLED
        finally:
            if run.network:
                self._remove_network_later(run.network)
            with self._lock:
                root.done.set()
                release = root.release_when_done
            if release:
                self.release(root.id)

    def _create_network(self, root_op_id: str) -> str:
        name = f"opspec-{root_op_id}"
        try:
            self.runtime.create_network(name, {**self.labels, LABEL_ROOT_OP: root_op_id})
        except ContainerError as error:
            raise OpspecError(str(error)) from None
        return name

    def _remove_network_later(self, name: str) -> None:
        def remove() -> None:
            # Containers are removed in the background; the network can go once they are gone.
            self.runtime.wait_for_removals()
            self.runtime.remove_network(name)

        thread = threading.Thread(target=remove, name=f"opspec-net-{name[-8:]}", daemon=True)
        thread.start()
        with self._lock:
            self._network_cleanups = [t for t in self._network_cleanups if t.is_alive()] + [thread]

    # -- observing and killing ----------------------------------------------------------------

    def root(self, root_op_id: str) -> RootOp | None:
        return self._roots.get(root_op_id)

    def wait(self, root_op_id: str, timeout: float | None = None) -> Outcome | None:
        """The root's outcome once it ended, or None if ``timeout`` passed first."""
        root = self._roots[root_op_id]
        return root.outcome if root.done.wait(timeout) else None

    def kill(self, op_id: str, reason: CancelReason = CancelReason.KILLED) -> bool:
        """Kill a root op and everything under it; return False for an id that is not a root op.

        ``reason`` TIMED_OUT makes its containers' exit reason ``timeout``.

        Returns once its containers are removed; its ``opEnded`` (KILLED) follows when every call
        beneath it has returned.
        """
        root = self._roots.get(op_id)
        if root is None:
            return False
        root.cancel.cancel(reason)
        return True

    def release(self, root_op_id: str) -> None:
        """Forget an ended root op and delete its scratch files (its file and dir outputs); a root op
        still running is released when it ends."""
        with self._lock:
            root = self._roots.get(root_op_id)
            if root is None:
                return
            if not root.done.is_set():
                root.release_when_done = True
                return
            del self._roots[root_op_id]
        import shutil  # here: `opspec run` releases no root op, the lease removes its scratch

        shutil.rmtree(self.data_dir / "runs" / root_op_id, ignore_errors=True)

    # -- shutting down ------------------------------------------------------------------------

    def close(self, timeout: float = 30.0) -> None:
        """Kill running ops, wait for them, remove every container and network, delete scratch."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            roots = list(self._roots.values())
        for root in roots:
            if not root.done.is_set():
                root.cancel.cancel(CancelReason.KILLED)
        for root in roots:
            if root.thread is not None:
                root.thread.join(timeout)
        for thread in list(self._network_cleanups):
            thread.join(timeout)
        cleaned_up = True
        if not self.keep_containers:
            try:
                if self.runtime.may_have_left_some():  # a lost answer, a failed removal, a call still running
                    self.runtime.sweep(self.labels)
            except Exception as error:  # the engine may be gone; the reaper tries once more
                cleaned_up = False
                logger(__name__).warning("could not sweep containers of %s: %s", self.owner, error)
        if self._close_runtime:
            self.runtime.close()
        if self._owns_lease:
            self.lease.release(cleaned_up=cleaned_up)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
