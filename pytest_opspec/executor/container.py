"""Container calls: interpret every field (SEMANTICS §5), then run, stream and collect outputs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from ..errors import OpspecError
from ..expressions.evaluate import is_whole_reference, reference_name, to_dir, to_file, to_string
from ..model.types import ContainerCall, Expression
from ..runtime.base import Mount, RegistryAuth
from ..values import Value, ValueType
from ..values.coerce import coerce_to_file
from ..values.paths import go_join
from .errors import CallFailed

# Longest line we hold in memory; longer output is published in pieces of this size.
MAX_LINE_BYTES = 64 * 1024


@dataclass
class PreparedContainer:
    """A container call with every expression evaluated, ready for the runtime."""

    image: str
    auth: RegistryAuth | None = None
    cmd: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)
    ports: dict[str, list[str]] = field(default_factory=dict)
    # scope name -> Value produced when the container exits (files, dirs, sockets)
    exit_outputs: dict[str, Value] = field(default_factory=dict)


def _wrap_bare(expression: Expression) -> Expression:
    """Deprecated bare forms (`srcDir`, `/src`) mean `$(srcDir)`, `$(/src)` (SEMANTICS §4)."""
    if isinstance(expression, str) and not expression.startswith("$(") and not expression.endswith(")"):
        return f"$({expression})"
    return expression


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _bind_error(container_path: str, expression: Expression, reason: object) -> CallFailed:
    return CallFailed(f"unable to bind {container_path} to {expression!r}; error was: {reason}")


class ContainerInterpreter:
    """Evaluates a container call's fields in a scope (SEMANTICS §5, with the §10 recommendations)."""

    def __init__(self, *, pkg_dir: Path, scratch: Path, data_dir: Path, container_id: str) -> None:
        self.pkg_dir = pkg_dir
        self.fs = scratch / "fs"  # copies bound into the container
        self.new_files = scratch / "files"  # files made from values
        self.data_dir = str(data_dir)
        self.container_id = container_id

    def interpret(self, call: ContainerCall, scope: Mapping[str, Value]) -> PreparedContainer:
        # fs and new_files are made by what first writes there: a container without mounts leaves no files.
        prepared = PreparedContainer(image="")
        prepared.cmd = self._cmd(call, scope)
        self._dirs(call, scope, prepared)
        prepared.env = self._env_vars(call, scope)
        self._files(call, scope, prepared)
        prepared.image, prepared.auth = self._image(call, scope)
        self._sockets(call, scope, prepared)
        prepared.ports = _ports(call.ports)
        prepared.mounts.sort(key=lambda m: (m.host_path, m.container_path))
        return prepared

    def _eval_string(self, expression: Expression, scope: Mapping[str, Value]) -> str:
        return to_string(expression, scope, self.pkg_dir).data

    def _cmd(self, call: ContainerCall, scope: Mapping[str, Value]) -> list[str] | None:
        if not call.cmd:
            return None
        command = []
        for index, entry in enumerate(call.cmd):
            try:
                command.append(self._eval_string(entry, scope))
            except OpspecError as error:
                raise CallFailed(f"unable to evaluate cmd[{index}] {entry!r}: {error}") from None
        return command

    def _dirs(self, call: ContainerCall, scope: Mapping[str, Value], prepared: PreparedContainer) -> None:
        for container_path, written in call.dirs.items():
            expression = f"$({container_path})" if written is None else _wrap_bare(written)
            try:
                value = to_dir(expression, scope, self.pkg_dir)
            except OpspecError as error:
                raise _bind_error(container_path, expression, error) from None
            source = value.data if value is not None else ""
            if source and not _is_under(source, self.data_dir):
                # Bound directly, read-write: user-dir outputs depend on it (SEMANTICS §10.21).
                if not os.path.isdir(source):
                    raise _bind_error(container_path, expression, f"{source} is not an existing directory")
                host = source
            else:
                host = go_join(str(self.fs), container_path)
                if source:
                    import shutil  # here, as below: only a copied dir or file needs it

                    shutil.copytree(source, host, symlinks=True, dirs_exist_ok=True)
                else:
                    os.makedirs(host, exist_ok=True)
                    os.chmod(host, 0o777)  # the image's user may not be root
            prepared.mounts.append(Mount(host, container_path))
            name = reference_name(written) if written is not None else None
            if name:
                prepared.exit_outputs[name] = Value.dir(host)

    def _env_vars(self, call: ContainerCall, scope: Mapping[str, Value]) -> dict[str, str]:
        env = {}
        for name, written in call.env_vars.items():
            if written is None and name not in scope:
                raise CallFailed(f"unable to bind env var to '{name}' via implicit ref; '{name}' not in scope")
            expression = f"$({name})" if written is None else written
            try:
                env[name] = self._eval_string(expression, scope)
            except OpspecError as error:
                raise CallFailed(f"unable to bind env var '{name}' to {expression!r}; error was: {error}") from None
        return env

    def _files(self, call: ContainerCall, scope: Mapping[str, Value], prepared: PreparedContainer) -> None:
        for container_path, written in call.files.items():
            expression = f"$({container_path})" if written is None else _wrap_bare(written)
            try:
                if is_whole_reference(expression) and reference_name(expression) not in scope:
                    # An unresolved `$(x)` starts as an empty file, not one holding "$(x)" (§10.5).
                    value = coerce_to_file(None, self.new_files)
                else:
                    value = to_file(expression, scope, self.pkg_dir, self.new_files)
            except OpspecError as error:
                raise _bind_error(container_path, expression, error) from None
            source = value.data
            if not _is_under(source, self.data_dir):
                # Docker would create a directory at a missing source path; refuse instead (§10.21).
                if not os.path.isfile(source):
                    raise _bind_error(container_path, expression, f"{source} is not an existing file")
                host = source
            else:
                host = go_join(str(self.fs), container_path)
                os.makedirs(os.path.dirname(host), exist_ok=True)
                import shutil

                shutil.copyfile(source, host)
                os.chmod(host, 0o666)
            prepared.mounts.append(Mount(host, container_path))
            name = reference_name(written) if written is not None else None
            if name:
                prepared.exit_outputs[name] = Value.file(host)

    def _image(self, call: ContainerCall, scope: Mapping[str, Value]) -> tuple[str, RegistryAuth | None]:
        try:
            ref = self._eval_string(call.image.ref, scope)
        except OpspecError as error:
            raise CallFailed(f"unable to evaluate image.ref {call.image.ref!r}: {error}") from None
        if not ref:
            raise CallFailed("image.ref evaluated to an empty string")
        auth = None
        creds = call.image.pull_creds
        if creds is not None:
            try:
                username = self._eval_string(creds.username, scope)
                password = self._eval_string(creds.password, scope)
            except OpspecError as error:
                raise CallFailed(f"unable to evaluate image.pullCreds: {error}") from None
            if username and password:  # as the reference: auth only when both are set
                auth = RegistryAuth(username, password)
        return ref, auth

    def _sockets(self, call: ContainerCall, scope: Mapping[str, Value], prepared: PreparedContainer) -> None:
        for address, name in call.sockets.items():
            value = scope.get(name)
            if value is not None:
                if value.type is not ValueType.SOCKET:
                    # The reference crashes here (SEMANTICS §10.14).
                    raise CallFailed(f"unable to bind socket {address} to '{name}': "
                                     f"it holds a {value.type}, not a socket")
                if "/" in value.data or "\\" in value.data:
                    prepared.mounts.append(Mount(value.data, address))
            elif "/" in address or "\\" in address:
                placeholder = go_join(str(self.fs), address)
                os.makedirs(os.path.dirname(placeholder), exist_ok=True)
                Path(placeholder).touch()
                prepared.mounts.append(Mount(placeholder, address))
            if address == "0.0.0.0":
                # Others reach a network socket through this container's hostname (its id).
                prepared.exit_outputs[name] = Value.socket(self.container_id)


def _port_range(text: str) -> list[int]:
    start, _, end = text.partition("-")
    first, last = int(start), int(end or start)
    if last < first:
        raise ValueError(f"range {text} runs backwards")
    return list(range(first, last + 1))


def _ports(ports: Mapping[str, str]) -> dict[str, list[str]]:
    """`'80': '8080'` binds host 8080 to container 80/tcp; ranges map item by item (SEMANTICS §5)."""
    bindings: dict[str, list[str]] = {}
    for container_spec, host_spec in ports.items():
        port, _, protocol = str(container_spec).partition("/")
        try:
            container_ports, host_ports = _port_range(port), _port_range(str(host_spec))
        except ValueError as error:
            raise CallFailed(f"invalid port binding {container_spec!r}: {host_spec!r} ({error})") from None
        if len(container_ports) != len(host_ports):
            raise CallFailed(
                f"invalid port binding {container_spec!r}: {host_spec!r}; the ranges differ in length"
            )
        for container_port, host_port in zip(container_ports, host_ports, strict=True):
            bindings[f"{container_port}/{protocol or 'tcp'}"] = [str(host_port)]
    return bindings


class OutputLines:
    """Splits one output stream into lines: one event per line, and stdOut/stdErr prefix bindings."""

    def __init__(self, publish_line: Callable[[bytes], None], bindings: Mapping[str, str]) -> None:
        self._publish_line = publish_line
        self._bindings = [(prefix.encode(), name) for prefix, name in bindings.items() if prefix]
        self._buffer = bytearray()
        self._continuing = False  # the buffer holds the tail of an over-long line
        self.bound: dict[str, Value] = {}

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            self._emit(bytes(self._buffer[: end + 1]))
            del self._buffer[: end + 1]
            self._continuing = False
        while len(self._buffer) >= MAX_LINE_BYTES:
            self._emit(bytes(self._buffer[:MAX_LINE_BYTES]))
            del self._buffer[:MAX_LINE_BYTES]
            self._continuing = True

    def close(self) -> None:
        if self._buffer:
            self._emit(bytes(self._buffer))
            self._buffer.clear()

    def _emit(self, line: bytes) -> None:
        self._publish_line(line)
        if self._continuing or not self._bindings:
            return
        text = line[:-1] if line.endswith(b"\n") else line
        if line.endswith(b"\n") and text.endswith(b"\r"):
            text = text[:-1]
        for prefix, name in self._bindings:
            if text.startswith(prefix):
                self.bound[name] = Value.string(text[len(prefix):].decode("utf-8", errors="replace"))
