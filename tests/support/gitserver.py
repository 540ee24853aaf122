"""A real smart-HTTP git server for the tests: git's own ``git http-backend`` (CGI) behind a small
threaded HTTP server on 127.0.0.1, with HTTP Basic auth for private repositories and two bad-server
modes (``hang``: never answers; ``garbage``: answers with bytes that are not git protocol).

Repositories are ordinary work repositories (commits and tags, lightweight or annotated) under
``<root>/<host>/<path>``; a git config with ``url.<base>.insteadOf`` points ``https://<host>/`` at
the server, so refs like ``github.com/opspec-pkgs/x#1.0.0`` resolve exactly as on a user's machine.
"""

from __future__ import annotations

import base64
import gzip
import os
import shutil
import subprocess
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Mapping

HOSTS = ("github.com", "git.example.test")
_GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.test", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.test", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()


@dataclass
class RepoPolicy:
    """How the server treats one repository: ``users`` (name -> password) makes it private;
    ``readers`` are the users allowed to read it (others get 403); ``mode`` is ok, hang or garbage."""

    users: dict[str, str] = field(default_factory=dict)
    readers: set[str] = field(default_factory=set)
    mode: str = "ok"


class GitServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.policies: dict[str, RepoPolicy] = {}
        self.fetches: Counter[str] = Counter()  # object downloads per repo: one per clone or fetch
        self.requests: Counter[str] = Counter()  # every request per repo
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- repositories -------------------------------------------------------------------------------------

    def repo(self, name: str, files: Mapping[str, str | bytes] | Path, tags: Mapping[str, bool] = {"1.0.0": False},
             policy: RepoPolicy | None = None) -> Path:
        """Create repository ``name`` (``host/path``) with these files (or a copy of a directory) in one commit,
        tagged with each of ``tags`` (True: annotated). Returns its work tree."""
        work = self.root / name
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        git(work, "init", "-q", "-b", "main")
        self._write(work, files)
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", "package")
        for tag, annotated in tags.items():
            git(work, "tag", *(["-a", "-m", f"release {tag}"] if annotated else []), tag)
        self.policies[name] = policy or RepoPolicy()
        return work

    def move_tag(self, name: str, tag: str, files: Mapping[str, str | bytes]) -> str:
        """Commit new content to ``name`` and move ``tag`` onto it; return the new commit."""
        work = self.root / name
        self._write(work, files)
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", "moved")
        git(work, "tag", "-f", tag)
        return git(work, "rev-parse", "HEAD")

    def commit_of(self, name: str, tag: str) -> str:
        return git(self.root / name, "rev-parse", f"refs/tags/{tag}^{{commit}}")

    @staticmethod
    def _write(work: Path, files: Mapping[str, str | bytes] | Path) -> None:
        if isinstance(files, Path):
            shutil.copytree(files, work, dirs_exist_ok=True)
            return
        for relative, content in files.items():
            target = work / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")

    # --- clients ------------------------------------------------------------------------------------------

    def write_client_config(self, path: Path, extra: str = "") -> Path:
        """A git config pointing ``https://<host>/`` at this server (use it as GIT_CONFIG_GLOBAL)."""
        rules = "".join(f'[url "{self.base_url}/{host}/"]\n\tinsteadOf = https://{host}/\n' for host in HOSTS)
        path.write_text(rules + extra, encoding="utf-8")
        return path

    def client_env(self, config: Path) -> dict[str, str]:
        return {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}

    # --- serving ------------------------------------------------------------------------------------------

    def repo_of(self, path: str) -> str | None:
        parts = path.lstrip("/").split("/")
        for end in range(len(parts), 1, -1):
            name = "/".join(parts[:end])
            if name in self.policies:
                return name
        return None


def _is_fetch(body: bytes, encoding: str | None) -> bool:
    """An upload-pack request that downloads objects (protocol v2 ``command=fetch``, or v0 wants), not a
    listing of refs."""
    if encoding == "gzip":
        body = gzip.decompress(body)
    return b"command=fetch" in body or (b"want " in body and b"command=" not in body)


def _handler(server: GitServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            name = server.repo_of(path)
            if name is None:
                return self._reply(404, b"no such repository\n")
            server.requests[name] += 1
            policy = server.policies[name]
            body = self._body()
            if policy.mode == "hang":
                server._stop.wait(600)
                return
            if policy.mode == "garbage":
                return self._reply(200, os.urandom(256), "application/x-git-upload-pack-advertisement")
            user = None
            if policy.users:
                user = self._user(policy)
                if user is None:
                    return self._reply(401, b"authentication required\n", extra={"WWW-Authenticate":
                                                                                   'Basic realm="git"'})
                if user not in policy.readers:
                    return self._reply(403, b"forbidden\n")
            if path.endswith("/git-upload-pack") and _is_fetch(body, self.headers.get("Content-Encoding")):
                server.fetches[name] += 1
            self._cgi(path, query, body, user)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _user(self, policy: RepoPolicy) -> str | None:
            scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "basic":
                return None
            try:
                username, _, password = base64.b64decode(encoded).decode().partition(":")
            except ValueError:
                return None
            return username if policy.users.get(username) == password else None

        def _cgi(self, path: str, query: str, body: bytes, user: str | None) -> None:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": str(server.root),
                   "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path, "QUERY_STRING": query,
                   "REQUEST_METHOD": self.command, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                   "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1", "GIT_CONFIG_NOSYSTEM": "1",
                   "GIT_CONFIG_GLOBAL": os.devnull, "HOME": str(server.root)}
            if user:
                env["REMOTE_USER"] = user
            if self.headers.get("Git-Protocol"):
                env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
            if self.headers.get("Content-Encoding"):
                env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
            result = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=120)
            head, _, payload = result.stdout.partition(b"\r\n\r\n")
            status, headers = 200, {}
            for line in head.decode("latin-1").split("\r\n"):
                key, _, value = line.partition(":")
                if key.lower() == "status":
                    status = int(value.strip().split()[0])
                elif key:
                    headers[key.strip()] = value.strip()
            content_type = headers.pop("Content-Type", "application/octet-stream")
            self._reply(status, payload, content_type, headers)

        def _reply(self, status: int, payload: bytes, content_type: str = "text/plain",
                   extra: Mapping[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


# --- the standard repositories every test session serves ------------------------------------------------------

ECHO_OP = """\
name: echo
description: prints its message and returns it
inputs:
  message:
    string:
      default: hello from a remote package
outputs:
  said:
    string: {}
run:
  container:
    image: { ref: alpine }
    cmd: [sh, -c, 'echo "said=$(message)"']
    stdOut: { 'said=': said }
"""

GREET_OP = """\
name: greet
description: calls the echo package, a remote dependency
inputs:
  who:
    string:
      default: world
outputs:
  greeting:
    string: {}
run:
  op:
    pkg: { ref: 'github.com/pytest-opspec/echo#1.0.0' }
    inputs: { message: 'hello $(who)' }
    outputs: { greeting: said }
"""

SECRET_ECHO_OP = ECHO_OP.replace("name: echo", "name: secret-echo").replace(
    "hello from a remote package", "hello from a private package")

PRIVATE_USERS = {"alice": "al1ce-Pa55", "mallory": "m4ll0ry-Pa55"}

# name -> (files, tags: annotated?, policy)
STANDARD_REPOS: dict[str, tuple[Mapping[str, str], Mapping[str, bool], RepoPolicy | None]] = {
    "github.com/pytest-opspec/echo": ({"op.yml": ECHO_OP, "README.md": "echo\n"}, {"1.0.0": True, "1.0.1": False},
                                      None),
    "github.com/pytest-opspec/greet": ({"op.yml": GREET_OP}, {"1.0.0": False}, None),
    "github.com/acme/secret-echo": ({"op.yml": SECRET_ECHO_OP}, {"1.0.0": True},
                                    RepoPolicy(users=dict(PRIVATE_USERS), readers={"alice"})),
    "github.com/acme/no-manifest": ({"README.md": "not a package\n"}, {"1.0.0": False}, None),
    "github.com/acme/hangs": ({"op.yml": ECHO_OP}, {"1.0.0": False}, RepoPolicy(mode="hang")),
    "github.com/acme/garbage": ({"op.yml": ECHO_OP}, {"1.0.0": False}, RepoPolicy(mode="garbage")),
}

# Real packages from the corpus: (repository, corpus folder, tag). azure.acs.create calls
# github.com/opspec-pkgs/azure.group.create#2.0.0, a transitive remote dependency.
CORPUS_REPOS = (
    ("github.com/opspec-pkgs/git.repo.resolve-commit", "git.repo.resolve-commit@067c5a4", "1.0.0"),
    ("github.com/opspec-pkgs/azure.group.create", "azure.group.create@8835bcc", "2.0.0"),
    ("github.com/opspec-pkgs/azure.acs.create", "azure.acs.create@4261429", "1.0.0"),
)


def start_standard_server(root: Path, corpus: Path | None) -> GitServer:
    server = GitServer(root)
    for name, (files, tags, policy) in STANDARD_REPOS.items():
        server.repo(name, files, tags, policy)
    if corpus is not None:
        for name, folder, tag in CORPUS_REPOS:
            server.repo(name, corpus / folder, {tag: True})
    return server
