"""opctl's node discovery file: written only when free, removed only while it still names us."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytest_opspec.node.opctl_lock import OpctlLock


def test_acquire_and_release(tmp_path: Path) -> None:
    lock = OpctlLock(tmp_path / "opctl" / "pid.lock")
    assert lock.acquire()
    assert lock.path.read_text() == f"{os.getpid()}\n"
    assert lock.owner() == os.getpid()
    lock.release()
    assert not lock.path.exists()


def test_a_stale_file_is_taken_over_and_a_live_owner_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "pid.lock"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path.write_text(dead.stdout)
    assert OpctlLock(path).acquire()

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path.write_text(f"{live.pid} extra words\n")
        lock = OpctlLock(path)
        assert not lock.acquire()
        lock.release()
        assert path.read_text().startswith(str(live.pid))  # not ours: left alone
    finally:
        live.kill()
        live.wait()
