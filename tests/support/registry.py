"""A real image registry (Debian's docker-registry) on 127.0.0.1 with htpasswd auth, for pullCreds tests."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import docker


@dataclass(frozen=True)
class Registry:
    address: str  # 127.0.0.1:PORT
    username: str
    password: str

    def image(self, repository: str) -> str:
        return f"{self.address}/{repository}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _htpasswd_line(username: str, password: str) -> str:
    result = subprocess.run(["htpasswd", "-Bbn", username, password], check=True, capture_output=True, text=True)
    return result.stdout.strip() + "\n"


def _ready(address: str, username: str, password: str) -> bool:
    request = urllib.request.Request(f"http://{address}/v2/")
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        return urllib.request.urlopen(request, timeout=1).status == 200
    except (urllib.error.URLError, OSError):
        return False


class RegistryProcess:
    def __init__(self, workdir: Path, username: str = "opspec", password: str = "s3cret-pass") -> None:
        if shutil.which("docker-registry") is None or shutil.which("htpasswd") is None:
            raise RuntimeError("docker-registry and htpasswd are needed (scripts/ensure-engine.sh installs them)")
        port = _free_port()
        self.registry = Registry(f"127.0.0.1:{port}", username, password)
        (workdir / "htpasswd").write_text(_htpasswd_line(username, password))
        (workdir / "config.yml").write_text(textwrap.dedent(f"""
            version: 0.1
            log: {{ level: error }}
            storage: {{ filesystem: {{ rootdirectory: {workdir / 'data'} }}, delete: {{ enabled: true }} }}
            http: {{ addr: 127.0.0.1:{port} }}
            auth: {{ htpasswd: {{ realm: opspec-tests, path: {workdir / 'htpasswd'} }} }}
        """))
        self._process = subprocess.Popen(
            ["docker-registry", "serve", str(workdir / "config.yml")],
            stdout=subprocess.DEVNULL, stderr=(workdir / "registry.log").open("wb"),
        )
        deadline = time.monotonic() + 15
        while not _ready(self.registry.address, username, password):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"docker-registry did not start; see {workdir / 'registry.log'}")
            time.sleep(0.1)

    def push(self, local_image: str, repository: str) -> str:
        """Push a local image under ``repository``; return the registry ref (the local tag is removed)."""
        target = self.registry.image(repository)
        client = docker.from_env()
        try:
            client.images.get(local_image).tag(target)
            auth = {"username": self.registry.username, "password": self.registry.password}
            for line in client.api.push(target, auth_config=auth, stream=True, decode=True):
                if "error" in line:
                    raise RuntimeError(f"push of {target} failed: {line['error']}")
            client.images.remove(target)
        finally:
            client.close()
        return target

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
