"""Fetching a remote package with the system ``git`` binary (SEMANTICS §1).

The system binary, so that the user's git configuration applies: ``url.<base>.insteadOf`` (mirrors),
credential helpers, ``http.*`` proxy and CA settings. Nothing ever prompts: terminal prompts and
every askpass program are disabled, and each git call has a timeout. Pull credentials reach git
through an inline credential helper that reads them from the environment of that one git process:
they are never in a URL (so insteadOf rules keep applying and git cannot echo them) and never on a
command line.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import (PkgAuthenticationError, PkgAuthorizationError, PkgError, PkgFetchError, PkgNotFoundError)
from .refs import DEFAULT_FETCH_TIMEOUT, Creds, RemoteRef

_USERNAME_VAR = "OPSPEC_PULL_USERNAME"
_PASSWORD_VAR = "OPSPEC_PULL_PASSWORD"
_MARKER_VAR = "OPSPEC_PULL_AUTH_MARKER"
# Answers git's `get` with the pull credentials; every call (get, store, erase) also marks that the
# server asked for authentication, which the cache records (a private package is served by the
# node only to a request that authenticates).
_CREDS_HELPER = (f'!f() {{ : > "${_MARKER_VAR}"; test "$1" = get && printf "username=%s\\npassword=%s\\n" '
                 f'"${_USERNAME_VAR}" "${_PASSWORD_VAR}"; cat >/dev/null; }}; f')
# Appended after the user's own helpers when no pull credentials are given: git calls its `store`
# after a helper's credentials were accepted, so the marker shows the server asked for them.
_MARK_ONLY_HELPER = f'!f() {{ : > "${_MARKER_VAR}"; cat >/dev/null; }}; f'
_USERINFO = re.compile(r"(://)[^/@\s]+@")


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch produced: the tag's peeled commit, and whether the server asked for credentials."""

    commit: str
    auth_required: bool


class Git:
    """Runs git for one purpose each (fetch a tag, check access); ``timeout`` bounds every call."""

    def __init__(self, *, timeout: float = DEFAULT_FETCH_TIMEOUT, executable: str = "git") -> None:
        self.timeout = timeout
        self.executable = executable

    def fetch(self, ref: RemoteRef, dest: Path, creds: Creds | None, scratch: Path) -> Fetched:
        """Check ``ref``'s tag out into the new directory ``dest``; the repository itself goes to ``scratch``
        (an existing directory the caller removes), leaving only a ``.git`` file in ``dest``."""
        marker = scratch / "auth-asked"
        env = self._environment(creds, marker)
        tag = f"refs/tags/{ref.version}"
        git_dir = ["--git-dir", str(scratch / "git"), "--work-tree", str(dest)]
        # One shallow clone does it all; `--branch` prefers a branch of the same name, so check that the
        # checkout is the tag's commit, and fetch exactly the tag when it is not.
        self._run(ref, [*self._auth_config(creds), "-c", "core.autocrlf=false", "-c", "advice.detachedHead=false",
                        "clone", "-q", "--template=", "--depth", "1", "--no-tags", "--single-branch", "--branch",
                        ref.version, "--separate-git-dir", str(scratch / "git"), "--", ref.url, str(dest)], env,
                  creds=creds, network=True)
        head, _, commit = self._run(ref, [*git_dir, "rev-parse", "HEAD", f"{tag}^{{commit}}"], env,
                                    check=False).strip().partition("\n")
        if not commit or head != commit:
            self._run(ref, [*self._auth_config(creds), *git_dir, "fetch", "-q", "--no-tags", "--depth", "1",
                            "--no-write-fetch-head", "--", ref.url, f"+{tag}:{tag}"], env, creds=creds, network=True)
            commit = self._run(ref, [*git_dir, "rev-parse", "--verify", "-q", f"{tag}^{{commit}}"], env).strip()
            self._run(ref, ["-c", "core.autocrlf=false", *git_dir, "read-tree", "--reset", "-u", commit], env)
        return Fetched(commit=commit, auth_required=marker.exists())

    def check_access(self, ref: RemoteRef, creds: Creds | None) -> str:
        """Ask the server for ``ref``'s tag with these credentials; return the peeled commit.

        Raises the same errors as fetch: authentication, authorization, no such repository or tag.
        """
        with tempfile.TemporaryDirectory(prefix="opspec-git-") as scratch:
            env = self._environment(creds, Path(scratch) / "auth-asked")
            tag = f"refs/tags/{ref.version}"
            out = self._run(ref, [*self._auth_config(creds), "ls-remote", ref.url, tag, f"{tag}^{{}}"], env,
                            creds=creds, network=True)
        refs: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, name = line.partition("\t")
            refs[name] = sha
        commit = refs.get(f"{tag}^{{}}") or refs.get(tag)
        if commit is None:
            raise PkgNotFoundError(ref.text, f"package {ref.text}: tag {ref.version!r} not found in {ref.url}")
        return commit

    @staticmethod
    def _auth_config(creds: Creds | None) -> list[str]:
        if creds is None:
            return ["-c", f"credential.helper={_MARK_ONLY_HELPER}"]
        # The empty value first drops the user's helpers: explicit pull credentials win.
        return ["-c", "credential.helper=", "-c", f"credential.helper={_CREDS_HELPER}"]

    @staticmethod
    def _environment(creds: Creds | None, marker: Path) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in ("SSH_ASKPASS", _USERNAME_VAR,
                                                                             _PASSWORD_VAR)}
        env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="", GCM_INTERACTIVE="never", LC_ALL="C", LANGUAGE="C",
                   GIT_SSH_COMMAND=env.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"))
        env[_MARKER_VAR] = str(marker)
        if creds is not None:
            env[_USERNAME_VAR] = creds.username
            env[_PASSWORD_VAR] = creds.password
        return env

    def _run(self, ref: RemoteRef, args: list[str], env: dict[str, str], *, creds: Creds | None = None,
             network: bool = False, check: bool = True) -> str:
        try:
            process = subprocess.Popen([self.executable, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, env=env, start_new_session=True)
        except OSError as error:
            raise PkgFetchError(ref.text, f"package {ref.text}: cannot run {self.executable!r} "
                                          f"({error.strerror}); install git to use remote packages") from None
        try:
            out, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            raise PkgFetchError(ref.text, f"package {ref.text}: git got no complete answer from {ref.url} within "
                                          f"{self.timeout:g}s; the server hangs or is too slow") from None
        if process.returncode != 0 and check:
            raise _classify(ref, _scrub(err.decode("utf-8", "replace"), creds), network)
        return out.decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _scrub(text: str, creds: Creds | None) -> str:
    """git's stderr without credentials: userinfo in URLs and the pull credentials' values."""
    text = _USERINFO.sub(r"\1***@", text)
    text = "".join(ch if ch.isprintable() or ch == "\n" else "?" for ch in text)
    if creds is not None:
        for secret in (creds.password, creds.username):
            if secret:
                text = text.replace(secret, "***")
    return text


def _classify(ref: RemoteRef, stderr: str, network: bool) -> PkgError:
    lowered = stderr.lower()
    shown = ref.text
    if "returned error: 403" in lowered:
        return PkgAuthorizationError(shown, f"package {shown}: pulling from {ref.url} was refused: the credentials "
                                            "are not authorized to read this repository (HTTP 403)")
    if "authentication failed" in lowered:
        return PkgAuthenticationError(shown, f"package {shown}: pulling from {ref.url} failed authentication: the "
                                             "pull credentials are missing or wrong")
    if "could not read username" in lowered or "could not read password" in lowered or "returned error: 401" in lowered:
        return PkgAuthenticationError(shown, f"package {shown}: {ref.url} requires authentication; give pullCreds "
                                             "(or configure a git credential helper for a root ref)")
    if "couldn't find remote ref" in lowered or ("remote branch" in lowered and "not found in upstream" in lowered):
        return PkgNotFoundError(shown, f"package {shown}: tag {ref.version!r} not found in {ref.url}; the version "
                                       "must be an existing tag")
    if "returned error: 404" in lowered or ("repository" in lowered and "not found" in lowered):
        return PkgNotFoundError(shown, f"package {shown}: repository {ref.url} not found")
    detail = " ".join(line.strip() for line in stderr.strip().splitlines()[-3:]) or "no message"
    if network:
        return PkgFetchError(shown, f"package {shown}: git could not fetch it from {ref.url}: {detail}")
    return PkgFetchError(shown, f"package {shown}: git failed: {detail}")
