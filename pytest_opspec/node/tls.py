"""TLS for the node API: the server's context (mutual TLS: clients must present a certificate signed
by the client CA, as dockerd's ``--tlsverify``) and the clients' (NodeClient, the plugin's node backend,
the conformance suite), built from PEM files named by options."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import OpspecError


class TLSConfigError(OpspecError):
    """A certificate, key or CA file that cannot be used; the message names the option."""


def _load(what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except FileNotFoundError as error:
        raise TLSConfigError(f"{what}: no such file {error.filename or ''}".rstrip()) from None
    except (ssl.SSLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or str(error)
        raise TLSConfigError(f"{what}: cannot be used ({reason})") from None


@dataclass(frozen=True)
class ServerTLS:
    """The node's certificate and key, and the CA that signs its clients' certificates."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    @property
    def mutual(self) -> bool:
        return self.client_ca is not None

    def context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        _load(f"--tls-cert {self.cert} / --tls-key {self.key}",
              lambda: context.load_cert_chain(str(self.cert), str(self.key)))
        if self.client_ca is not None:
            _load(f"--tls-client-ca {self.client_ca}", lambda: context.load_verify_locations(str(self.client_ca)))
            context.verify_mode = ssl.CERT_REQUIRED
        return context


@dataclass(frozen=True)
class ClientTLS:
    """What a client of an https:// node uses: the CA that signed the node's certificate (None: the
    system's CAs) and the client's own certificate and key (for a node that requires one)."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    # how the options are spelled where these came from, for error messages
    ca_option: str = "CA"
    cert_option: str = "client certificate"
    key_option: str = "client key"

    def __post_init__(self) -> None:
        if self.key is not None and self.cert is None:
            raise TLSConfigError(f"{self.key_option} needs {self.cert_option} too")

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.ca is not None:
            _load(f"{self.ca_option} {self.ca}", lambda: context.load_verify_locations(str(self.ca)))
        if self.cert is not None:
            named = f"{self.cert_option} {self.cert}" + (f" / {self.key_option} {self.key}" if self.key else "")
            _load(named, lambda: context.load_cert_chain(str(self.cert), str(self.key) if self.key else None))
        return context
