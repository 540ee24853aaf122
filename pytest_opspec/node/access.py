"""Who may use the node, and which host paths their ops may mount (see docs/architecture.md, "Node
threat model").

- **Host**: a request's ``Host`` must be a loopback name (``localhost``, ``127.x.y.z``, ``[::1]``), the
  address the node listens on, or one named by ``--allow-host``. A web page that rebinds its own DNS
  name to 127.0.0.1 sends its own name, and is refused (DNS rebinding).
- **Origin**: browsers send ``Origin`` with every cross-origin request and every WebSocket handshake;
  a request carrying one not named by ``--allow-origin`` is refused before anything runs. Clients that
  are not browsers send none. CORS headers name only an allowed origin, never ``*``.
- **Mounts**: with ``--allow-mount DIR`` given, dir, file and socket args may only name paths inside
  those directories (symlinks resolved); without it an op may mount any path the node's user can reach.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..options import web_origin
from ..values import Value, ValueType
from .errors import ApiError, Code

CORS_METHODS = "GET, HEAD, POST"
CORS_HEADERS = "Accept, Accept-Language, Content-Language, Content-Type, Origin, Range, Authorization"
CORS_EXPOSE = "Accept-Ranges, Content-Length, Content-Range, Opspec-Pkg-Commit, Opspec-Pkg-Digest, Opspec-Pkg-Source"
_PATH_TYPES = (ValueType.DIR, ValueType.FILE, ValueType.SOCKET)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1); ``host`` may be bracketed."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """An address that listens on every interface."""
    return host.strip().strip("[]") in ("", "0.0.0.0", "::")


def normalize_host(text: str) -> str:
    """A Host header's or ``--allow-host``'s name without its port, lower-cased, unbracketed."""
    text = text.strip().lower()
    if text.startswith("["):
        return text[1:text.find("]")] if "]" in text else text[1:]
    name, sep, port = text.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        text = name
    return text.rstrip(".")


@dataclass(frozen=True)
class AccessPolicy:
    """What the node lets in; the default admits loopback clients without an Origin only."""

    allow_origins: frozenset[str] = frozenset()
    allow_hosts: frozenset[str] = frozenset()
    # real paths of the directories dir/file/socket args may name; empty: any path
    allow_mounts: tuple[str, ...] = ()

    @classmethod
    def build(cls, origins: Iterable[str] = (), hosts: Iterable[str] = (),
              mounts: Iterable[str | os.PathLike[str]] = ()) -> AccessPolicy:
        """From option values; ValueError names a malformed origin."""
        return cls(frozenset(web_origin(origin) for origin in origins),
                   frozenset(normalize_host(host) for host in hosts),
                   tuple(os.path.realpath(mount) for mount in mounts))

    def check_request(self, headers: Mapping[str, str]) -> None:
        """Refuse (403) a foreign Host or Origin before anything else happens."""
        host = headers.get("Host")
        name = normalize_host(host) if host is not None else None
        if name is not None and not is_loopback(name) and name not in self.allow_hosts:
            raise ApiError(403, Code.HOST_NOT_ALLOWED,
                           f"requests for Host {host!r} are refused: it is not a loopback name or an allowed host "
                           "(a web page rebinding its DNS name sends its own name); start the node with "
                           f"--allow-host {name} to serve it")
        origin = headers.get("Origin")
        if origin is not None and not self.origin_allowed(origin):
            raise ApiError(403, Code.ORIGIN_NOT_ALLOWED,
                           f"requests from origin {origin!r} are refused (a web page cannot use this node unless "
                           "its origin is allowed); start the node with --allow-origin ORIGIN to allow one")

    def origin_allowed(self, origin: str) -> bool:
        try:
            return web_origin(origin) in self.allow_origins
        except ValueError:
            return False

    def cors_headers(self, headers: Mapping[str, str], method: str) -> dict[str, str]:
        """CORS response headers for an allowed origin; none otherwise (never a wildcard)."""
        origin = headers.get("Origin")
        if origin is None or not self.origin_allowed(origin):
            return {}
        cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Expose-Headers": CORS_EXPOSE}
        if method == "OPTIONS":
            cors["Access-Control-Allow-Methods"] = CORS_METHODS
            cors["Access-Control-Allow-Headers"] = CORS_HEADERS
        return cors

    def check_mounts(self, args: Mapping[str, Value]) -> dict[str, Value]:
        """The args with dir/file/socket paths resolved; 400 naming an arg whose path is outside
        every ``--allow-mount`` dir. Unrestricted (no ``--allow-mount``): the args as given."""
        if not self.allow_mounts:
            return dict(args)
        checked = {}
        for name, value in args.items():
            if value.type in _PATH_TYPES and ("/" in value.data or "\\" in value.data):
                real = os.path.realpath(value.data)
                if not any(real == root or real.startswith(root.rstrip("/") + "/") for root in self.allow_mounts):
                    allowed = ", ".join(self.allow_mounts)
                    raise ApiError(400, Code.MOUNT_NOT_ALLOWED,
                                   f"arg {name!r}: {value.type.value} {value.data!r} is outside the directories this "
                                   f"node lets ops mount ({allowed}; --allow-mount)")
                value = Value(value.type, real)
            checked[name] = value
        return checked
