"""The reaper of one lease: ``python -m pytest_opspec.runtime.reaper LEASE_ID ROOT`` (see lease.py).

Started by ``Lease.acquire`` in a session of its own, with a pipe from the owner on stdin. It takes a
shared lock on the lease's lock file (so the lease stays provably alive while it runs) and reads the
pipe. ``done`` then end of file: the owner cleaned up; exit. End of file
alone: the owner died (SIGKILL, a crash, a kill of its process group): remove the lease's containers
and networks (twice, a few seconds apart, for requests the engine was still serving), its scratch
dir and its lock file, then exit. It needs no image, and imports the engine client only to clean up.
"""

from __future__ import annotations

# Only what waiting needs is imported at start: the reaper starts beside every owner and must not take
# the CPU from the owner's own start-up (a container starting, on a small machine). The rest is
# imported once the pipe ends.
import fcntl
import os
import signal
import sys

# Seconds between the two sweeps: a create the dead owner sent may still be running in the engine.
SECOND_SWEEP_AFTER = 3.0


def main(argv: list[str]) -> int:
    lease_id, root = argv[0], argv[1]
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    lock_path = os.path.join(root, f"{lease_id}.lock")
    try:
        lock = open(lock_path, "rb")
    except FileNotFoundError:  # the owner already ended cleanly (it removes the lock file last)
        return 0
    with lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        received = b""
        while chunk := os.read(0, 64):
            received += chunk
        import shutil
        import time

        from .lease import DONE

        if received == DONE:
            return 0
        _remove_engine_resources(lease_id)
        shutil.rmtree(os.path.join(root, lease_id), ignore_errors=True)
        time.sleep(SECOND_SWEEP_AFTER)
        _remove_engine_resources(lease_id)
        try:
            os.unlink(lock_path)
        except FileNotFoundError:
            pass
    return 0


def _remove_engine_resources(lease_id: str) -> None:
    from .docker import DockerRuntime
    from .lease import LABEL_LEASE

    try:
        runtime = DockerRuntime(resource_figures=False)  # it only sweeps: no figures to measure, no engine info
    except Exception:  # no engine: nothing of ours can be running there
        return
    try:
        runtime.sweep({LABEL_LEASE: lease_id})
    except Exception as error:
        print(f"reaper {lease_id}: could not remove its containers: {error}", file=sys.stderr)
    finally:
        runtime.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
