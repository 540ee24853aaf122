"""The bundled node a pytest session offers through the ``node_client`` fixture.

It is `opspec node` in a process of its own, so that every process of the session (the controller and
each pytest-xdist worker) can reach the same node. Whichever process needs it first starts it, under a
file lock in the session's directory, and records its URL there; the others read it. The controller
stops it at the end of the session, which kills what still runs on it and removes its containers. The
node also watches the controller's pid, so it stops by itself if the session dies without cleaning up.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping

from ..errors import OpspecError

# How long the node may take to start listening, and to stop.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0



class SessionNodeError(OpspecError):
    pass


class SessionNode:
    def __init__(
        self, directory: Path, *, owner_pid: int, image_map: Mapping[str, str] | None = None,
        pull_policy: str = "missing",
    ) -> None:
        self.directory = directory
        self.owner_pid = owner_pid
        self._image_map = dict(image_map or {})
        self._pull_policy = pull_policy
        self._state = directory / "node.json"
        self._log = directory / "node.log"
        self._url_file = directory / "node.url"  # the node writes its URL here once it serves

    def url(self) -> str:
        """The node's URL, starting the node if no process of the session has yet."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "node.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self._state.exists():
                return json.loads(self._state.read_text())["url"]
            url, pid = self._start()
            self._state.write_text(json.dumps({"url": url, "pid": pid}))
            return url

    def _start(self) -> tuple[str, int]:
        command = [sys.executable, "-m", "pytest_opspec.cli", "node", "--listen", "127.0.0.1:0",
                   "--data-dir", str(self.directory / "data"), "--watch-pid", str(self.owner_pid),
                   "--pull", self._pull_policy, "--url-file", str(self._url_file)]
        for source, target in self._image_map.items():
            command += ["--image-map", f"{source}={target}"]
        with open(self._log, "wb") as log:
            # Its own session: a Ctrl-C in the terminal reaches pytest, which then stops the node cleanly.
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._url_file.exists():
                return self._url_file.read_text().strip(), process.pid
            if process.poll() is not None:
                raise SessionNodeError(f"the bundled node did not start:\n{self._log_tail()}")
            time.sleep(0.05)
        process.kill()
        raise SessionNodeError(f"the bundled node did not start within {START_TIMEOUT:g} s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the node if one was started (SIGTERM: running ops are killed, containers removed)."""
        if not self._state.exists():
            return
        pid = json.loads(self._state.read_text())["pid"]
        self._state.unlink()
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                reaped, _ = os.waitpid(pid, os.WNOHANG)  # our child: reap it
            except ChildProcessError:  # started by an xdist worker: just watch it
                reaped = 0
            if reaped or not _alive(pid):
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        raise SessionNodeError(f"the bundled node (pid {pid}) did not stop within {STOP_TIMEOUT:g} s; killed it")


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (an exited child that its parent has not reaped yet does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
