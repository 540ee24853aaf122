"""The plugin's side of the option table (pytest_opspec/options.py): every option with a ``pytest_flag``
becomes a pytest flag and an ini key, and ``load`` reads them all (flag > ``OPSPEC_*`` env > ini) into a
typed ``PluginSettings``. A bad value is a ``pytest.UsageError`` naming where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from ..limits import NO_LIMITS, Limits
from ..options import (CONFORMANCE_OPTIONS, CPUS, IMAGE_MAP, KEEP_CONTAINERS, MEMORY, NETWORK, NODE_CA,
                       NODE_CLIENT_CERT, NODE_CLIENT_KEY, NODE_URL, OFFLINE, OPTIONS, PATHS, PIDS_LIMIT, PKG_CACHE,
                       PKG_MAP, PULL, SKIP_WITHOUT_ENGINE, TIMEOUT, Kind, Option, OptionError, Source, limits_from,
                       resolve)

if TYPE_CHECKING:
    from ..node.tls import ClientTLS
    from ..pkgs.resolve import PkgOptions

PLUGIN_OPTIONS: tuple[Option, ...] = tuple(option for option in (*OPTIONS, *CONFORMANCE_OPTIONS)
                                           if option.pytest_flag)

IniType = Literal["string", "paths", "linelist", "bool"]
_INI_TYPES: dict[Kind, IniType] = {Kind.PATHS: "paths", Kind.LIST: "linelist", Kind.SWITCH: "bool"}
_CONFORMANCE_URL = CONFORMANCE_OPTIONS[0]


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("opspec", "opspec op packages (pytest-opspec)")
    for option in PLUGIN_OPTIONS:
        conformance = option in CONFORMANCE_OPTIONS
        prefix = ("run the node conformance suite as tests against the node at URL; " if option is _CONFORMANCE_URL
                  else "conformance suite: " if conformance else "")
        help_text = f"{prefix}{option.help} (precedence: {option.pytest_flag} > env {option.env} > ini {option.ini})"
        if option.kind in (Kind.PATHS, Kind.LIST):  # one value per flag, so test paths after it stay test paths
            group.addoption(option.pytest_flag, dest=option.ini, action="append", metavar=option.metavar,
                            default=None, help=help_text)
        elif option.kind is Kind.OPTIONAL:
            group.addoption(option.pytest_flag, dest=option.ini, nargs="?", const="", metavar=option.metavar,
                            default=None, help=help_text)
        elif option.kind is Kind.SWITCH:
            group.addoption(option.pytest_flag, dest=option.ini, action="store_true", default=None, help=help_text)
        else:
            group.addoption(option.pytest_flag, dest=option.ini, metavar=option.metavar, default=None,
                            choices=option.choices or None, help=help_text)
        parser.addini(option.ini, type=_INI_TYPES.get(option.kind, "string"), default=None,
                      help=f"{prefix}{option.help}; overridden by env {option.env} and {option.pytest_flag}")


def read(config: pytest.Config, option: Option) -> tuple[Any, Source]:
    """The option's parsed value and where it came from; a bad value is a usage error naming its source."""
    try:
        return resolve(option, flag=config.getoption(option.ini), ini=config.getini(option.ini))
    except OptionError as error:
        raise pytest.UsageError(str(error)) from None


@dataclass(frozen=True)
class PluginSettings:
    """Every setting, parsed. ``paths_source`` tells whether the package paths came from the command line."""

    paths: list[Path] = field(default_factory=list)
    paths_source: Source = Source.DEFAULT
    node_url: str | None = None
    node_tls: ClientTLS | None = None
    image_map: dict[str, str] = field(default_factory=dict)
    pull: str = PULL.default  # a PullPolicy value
    timeout: float = TIMEOUT.default
    keep_containers: bool = False
    pkg_cache: Path | None = None
    offline: bool = False
    pkg_map: dict[str, Path] = field(default_factory=dict)
    limits: Limits = NO_LIMITS  # for every op the session runs
    skip_without_engine: bool = False

    def package_options(self) -> PkgOptions:
        # Imported here: resolving packages (and git) is for sessions that run ops, not every pytest run.
        from ..pkgs.resolve import PkgOptions

        return PkgOptions(cache_dir=self.pkg_cache, offline=self.offline, pkg_map=self.pkg_map)


def load(config: pytest.Config) -> PluginSettings:
    paths, paths_source = read(config, PATHS)
    node_url = read(config, NODE_URL)[0]
    limits = limits_from({option.name: read(config, option)[0] for option in (MEMORY, CPUS, PIDS_LIMIT, NETWORK)})
    if node_url and limits:
        raise pytest.UsageError(f"limits ({limits.describe()}) cannot be passed to the node at {node_url}: the node "
                                "API has no way to; start that node with them (opspec node --memory ...)")
    return PluginSettings(
        paths=list(paths), paths_source=paths_source, node_url=node_url, node_tls=_node_tls(config),
        image_map=dict(read(config, IMAGE_MAP)[0]), pull=read(config, PULL)[0],
        timeout=read(config, TIMEOUT)[0], keep_containers=read(config, KEEP_CONTAINERS)[0],
        pkg_cache=read(config, PKG_CACHE)[0], offline=read(config, OFFLINE)[0], pkg_map=dict(read(config, PKG_MAP)[0]),
        limits=limits,
        skip_without_engine=read(config, SKIP_WITHOUT_ENGINE)[0],
    )


def _node_tls(config: pytest.Config) -> ClientTLS | None:
    """The client side of TLS to the node, checked now (a usage error names the option and file)."""
    (ca, ca_from), (cert, cert_from), (key, key_from) = (read(config, option)
                                                         for option in (NODE_CA, NODE_CLIENT_CERT, NODE_CLIENT_KEY))
    if ca is None and cert is None and key is None:
        return None
    from ..node.tls import ClientTLS, TLSConfigError  # node code loads only when a node option is given

    try:
        tls = ClientTLS(ca, cert, key, ca_option=NODE_CA.named(ca_from), cert_option=NODE_CLIENT_CERT.named(cert_from),
                        key_option=NODE_CLIENT_KEY.named(key_from))
        tls.context()
    except TLSConfigError as error:
        raise pytest.UsageError(str(error)) from None
    return tls


def conformance_requested(config: pytest.Config) -> bool:
    """``--opspec-conformance`` was given (with or without a URL)."""
    return config.getoption(_CONFORMANCE_URL.ini) is not None


def conformance_values(config: pytest.Config) -> dict[str, Any]:
    """The conformance options that were set, parsed, for conformance.Config."""
    values = {}
    for option in CONFORMANCE_OPTIONS:
        value, source = read(config, option)
        if source is not Source.DEFAULT:
            values[option.name] = value
    return values
