"""The conformance suite's configuration: a ``Config`` built from the suite's options.

The options themselves are ``CONFORMANCE_OPTIONS`` in pytest_opspec/options.py, the one option table:
`opspec conformance` reads each from its flag, else its ``OPSPEC_CONFORMANCE_*`` env var; `pytest
--opspec-conformance` from its ``--opspec-conformance-*`` flag, env var, else ini key. Both give
``Config.from_values`` parsed values, and a bad value gets the same message, naming where it came from.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..node.tls import ClientTLS, TLSConfigError
from ..options import CONFORMANCE_OPTIONS, OptionError
from .node_container import NodeImage
from .registry import Level

_DEFAULTS = {option.name: option.default for option in CONFORMANCE_OPTIONS}


@dataclass(frozen=True)
class Config:
    url: str | None = None  # None: the bundled node
    profile: str = _DEFAULTS["profile"]
    pkg_dir: Path | None = None
    pkg_ref_template: str = _DEFAULTS["pkg_ref_template"]
    image: str = _DEFAULTS["image"]
    engine: str = _DEFAULTS["engine"]
    node_image: str | None = None
    node_cmd: tuple[str, ...] = ()
    node_port: int = _DEFAULTS["node_port"]
    node_env: tuple[tuple[str, str], ...] = ()
    node_volume: tuple[str, ...] = ()  # SRC:DST:MODE
    node_ca: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    timeout: float = _DEFAULTS["timeout"]
    select: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    fail_on: Level = Level(_DEFAULTS["fail_on"].upper())
    fuzz_examples: int = _DEFAULTS["fuzz_examples"]
    junit_xml: Path | None = None
    report_json: Path | None = None
    report_html: Path | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Config:
        """The options' parsed values (options.resolve) by name; unset ones keep their defaults."""
        values = dict(values)
        if "fail_on" in values:
            values["fail_on"] = Level(str(values["fail_on"]).upper())
        if values.get("url") and values.get("node_image"):
            raise OptionError("URL and --node-image: check either a running node (a URL) or one started from an "
                              "image, not both")
        config = cls(**values)
        try:
            if config.client_tls is not None:
                config.client_tls.context()  # the files are readable and match
        except TLSConfigError as error:
            raise OptionError(str(error)) from None
        return config

    @property
    def client_tls(self) -> ClientTLS | None:
        """TLS to an https:// node: its CA and the certificate to present."""
        if self.node_ca is None and self.client_cert is None and self.client_key is None:
            return None
        return ClientTLS(self.node_ca, self.client_cert, self.client_key, ca_option="--node-ca",
                         cert_option="--client-cert", key_option="--client-key")

    @property
    def node(self) -> NodeImage | None:
        """The node to start from an image (--node-image), if any."""
        if self.node_image is None:
            return None
        return NodeImage(self.node_image, self.node_cmd, self.node_port, self.node_env, self.node_volume)

    def to_json(self) -> dict[str, Any]:
        """Every setting, with credentials in URLs redacted (for reports)."""
        document: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Path):
                value = str(value)
            elif item.name == "node_env":
                value = [name for name, _ in value]  # values may be secrets
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Level):
                value = value.value.lower()
            if item.name in ("url", "engine") and isinstance(value, str):
                value = redact_url(value)
            document[item.name] = value
        return document


_SECRET_PARAM = re.compile(r"(pass|secret|token|key|auth|cred)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL with its password and secret-looking query parameters replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, sep, _ = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if sep else f"***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(key, "***" if _SECRET_PARAM.search(key) else value) for key, value in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
