"""Ownership that does not depend on seeing pids: leases, their locks and their reapers.

Every process that creates containers (a pytest session or one xdist worker of it, a node, `opspec
run`) holds a **lease**: an id, a lock file ``<root>/<id>.lock`` that the process holds with a shared
``flock`` for as long as it lives, and a private scratch dir ``<root>/<id>/``. Everything the
process creates on the engine carries the lease's labels (its id, the lock file's path, the host
name and the kernel's boot id).

- **Liveness proof.** The kernel drops a process's ``flock`` when the process dies, however it dies,
  and a lock is visible to every process on the host whatever its PID namespace. So "the lock file
  exists and an exclusive lock on it can be taken" proves that the lease's holders are gone. A lock
  file that cannot be seen (another host, a private /tmp) proves nothing, and its resources are left
  alone; after a reboot (same host name, another boot id) the resources that are not running are
  provably dead too.
- **Reaper.** Acquiring a lease starts ``python -m pytest_opspec.runtime.reaper`` in a session of its
  own (a kill of the owner's whole process group does not reach it). It holds the lock too and reads
  a pipe from the owner: end of file without the owner's ``done`` means the owner died, and the
  reaper removes the lease's containers, networks and scratch dir within seconds, then exits. A
  clean owner removes its own resources and says ``done`` (``Lease.release``).
- **Stale sweeps** (``DockerRuntime.sweep_stale``, ``remove_dead_scratch``) remove only what
  ``lease_gone`` proves dead, so two sessions never touch each other's resources.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import socket
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import IO, Iterator, Mapping

from ..logs import logger
from .base import LABEL_HOST, LABEL_PREFIX, ContainerRuntime


LABEL_LEASE = f"{LABEL_PREFIX}.lease"
LABEL_LEASE_LOCK = f"{LABEL_PREFIX}.lease-lock"
LABEL_BOOT_ID = f"{LABEL_PREFIX}.boot-id"

DONE = b"done\n"

_LEASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def default_root() -> Path:
    """Where leases live on this host: ``<tmp>/pytest-opspec``, ``<tmp>`` as ``tempfile.gettempdir()`` finds it.

    Its usual answer (no TMPDIR, TEMP or TMP set, and /tmp writable: /tmp) is had without importing
    tempfile, which imports shutil, zlib, bz2 and lzma: `opspec run` of an op that writes no files needs none.
    """
    if not any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")) and os.access("/tmp", os.W_OK | os.X_OK):
        return Path("/tmp/pytest-opspec")
    import tempfile

    return Path(tempfile.gettempdir()) / "pytest-opspec"


@cache
def boot_id() -> str:
    """The running kernel's boot id (the same in every namespace and container on this kernel)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _make_root(root: Path) -> None:
    if not root.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        try:
            root.chmod(0o1777)  # shared by every user's sessions, like /tmp itself
        except OSError:
            pass


class Lease:
    """This process's claim on what it creates; see the module docstring.

    ``Lease.acquire()`` takes the lock, makes the scratch dir and starts the reaper. ``release()`` is
    the clean end: call it after removing the lease's containers and networks.
    """

    def __init__(self, lease_id: str, root: Path, lock: IO[bytes], reaper: subprocess.Popen[bytes] | None) -> None:
        self.id = lease_id
        self.root = root
        self.lock_path = root / f"{lease_id}.lock"
        self.scratch = root / lease_id
        self._lock = lock
        self._reaper = reaper
        self._released = False

    @classmethod
    def acquire(cls, prefix: str = "lease", *, root: Path | None = None, reaper: bool = True) -> Lease:
        root = (root or default_root()).resolve()
        _make_root(root)
        lease_id = f"{prefix}-{os.urandom(16).hex()}"
        lock = _create_locked(root, lease_id)
        # The lock file is made before the scratch dir and removed after it (remove_dead_scratch relies on it).
        scratch = root / lease_id
        scratch.mkdir(mode=0o700)
        process = _start_reaper(lease_id, root) if reaper else None
        return cls(lease_id, root, lock, process)

    @property
    def labels(self) -> dict[str, str]:
        """The labels every container and network of this lease carries."""
        return {LABEL_LEASE: self.id, LABEL_LEASE_LOCK: str(self.lock_path), LABEL_HOST: socket.gethostname(),
                LABEL_BOOT_ID: boot_id()}

    def release(self, *, cleaned_up: bool = True) -> None:
        """The end: delete the scratch dir and drop the lock. ``cleaned_up``: the owner removed the
        lease's containers and networks, and the reaper just exits; otherwise it removes them."""
        if self._released:
            return
        self._released = True
        reaper, self._reaper = self._reaper, None
        if reaper is not None and reaper.stdin is not None:
            try:
                if cleaned_up:
                    reaper.stdin.write(DONE)
                reaper.stdin.close()
            except OSError:  # it died; the stale sweeps cover its lease
                pass
        _remove_tree(self.scratch)
        if cleaned_up:
            self.lock_path.unlink(missing_ok=True)
        self._lock.close()
        # Not waited for: it exits on its own, and subprocess reaps it later.


def _remove_tree(path: Path) -> None:
    """``shutil.rmtree(path, ignore_errors=True)``, with shutil imported only when ``path`` is not an empty
    directory (a scratch dir is empty after a run that wrote no files)."""
    try:
        path.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def _create_locked(root: Path, lease_id: str) -> IO[bytes]:
    """The lease's lock file, created and locked before it appears under its name (no sweep can see it
    unlocked)."""
    pending = root / f"{lease_id}.lock.new"
    handle = open(pending, "xb")
    try:
        os.chmod(pending, 0o644)
        fcntl.flock(handle, fcntl.LOCK_SH)
        handle.write(f"{lease_id}\n".encode())
        handle.flush()
        os.rename(pending, root / f"{lease_id}.lock")
    except BaseException:
        handle.close()
        pending.unlink(missing_ok=True)
        raise
    return handle


def _start_reaper(lease_id: str, root: Path) -> subprocess.Popen[bytes] | None:
    command = [sys.executable, "-m", "pytest_opspec.runtime.reaper", lease_id, str(root)]
    try:
        # A session of its own: a kill of the owner's process group (a CI runner's) does not reach it.
        # Not waited for: if it cannot run, the lease is still provably dead once the owner is gone.
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except OSError as error:
        logger(__name__).warning("could not start the reaper of lease %s: %s", lease_id, error)
        return None


# -- judging leases ------------------------------------------------------------------------------

def lease_gone(labels: Mapping[str, str], *, running: bool = False) -> bool:
    """Whether the lease named by a resource's labels provably has no live holder.

    True when its lock file is on this host and nobody holds it, or, for a resource that is not
    ``running``, when it was made on this host before the last reboot. Anything else, resources
    without lease labels included, is not provably dead.
    """
    lease_id = labels.get(LABEL_LEASE, "")
    lock = labels.get(LABEL_LEASE_LOCK, "")
    if not _LEASE_ID.fullmatch(lease_id) or not os.path.isabs(lock) or os.path.basename(lock) != f"{lease_id}.lock":
        return False
    if (not running and labels.get(LABEL_HOST) == socket.gethostname() and labels.get(LABEL_BOOT_ID)
            and labels.get(LABEL_BOOT_ID) != boot_id()):
        return True  # the machine rebooted since; no process of that time is left
    return lock_free(Path(lock), lease_id)


def lock_free(path: Path, lease_id: str) -> bool:
    """The lock file exists, names ``lease_id``, and no process holds it."""
    with _claimed(path, lease_id) as claimed:
        return claimed


@contextlib.contextmanager
def _claimed(path: Path, lease_id: str) -> Iterator[bool]:
    """Whether ``path`` is the free lock file of ``lease_id``; if so, held exclusively meanwhile."""
    try:
        handle = open(path, "rb")
    except OSError:
        yield False
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            yield False
            return
        yield handle.read(200).decode(errors="replace").strip() == lease_id


def remove_dead_scratch(root: Path | None = None) -> int:
    """Remove the scratch dirs and lock files of this host's leases that no process holds; return how many."""
    root = root or default_root()
    try:
        names = [entry.name for entry in os.scandir(root)]
    except FileNotFoundError:
        return 0
    removed = 0
    for name in names:
        lease_id = name.removesuffix(".lock")
        if lease_id == name or not _LEASE_ID.fullmatch(lease_id):
            continue
        path = root / name
        # Held exclusively while removing: other sweeps see the lease as alive and keep out.
        with _claimed(path, lease_id) as claimed:
            if claimed:
                _remove_tree(root / lease_id)
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def sweep_dead_leases(runtime: ContainerRuntime) -> None:
    """Remove what dead owners (sessions, nodes) left whose reaper could not clean up: containers,
    networks and scratch dirs of leases that provably have no holder. Never fails the caller."""
    try:
        removed = runtime.sweep_stale() + remove_dead_scratch()
        if removed:
            logger(__name__).info("removed %d containers/networks/scratch dirs left by sessions or nodes that died",
                                  removed)
    except Exception as error:
        logger(__name__).warning("could not sweep what dead sessions or nodes left: %s", error)
