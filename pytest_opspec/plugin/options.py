"""The plugin's settings: each one read from a CLI flag, else an ``OPSPEC_*`` env var, else an ini key.

One table (SETTINGS) says where each setting comes from and what type it has; ``add_options``
registers them all with pytest, ``resolve`` applies the precedence and parses the value, and
``load`` gives every setting at once as a typed ``PluginSettings``. A value that does not parse is
a ``pytest.UsageError`` naming where it came from. The conformance suite's settings are derived from
its own option table (conformance/config.py), which `opspec conformance` shares.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any, Literal

import pytest

from ..conformance.config import OPTIONS as CONFORMANCE_OPTIONS

from ..options import positive_seconds
from ..runtime.base import ImageMapError, PullPolicy, parse_image_map


class Source(StrEnum):
    CLI = "cli"
    ENV = "env"
    INI = "ini"
    DEFAULT = "default"


class Kind(StrEnum):
    PATHS = "paths"  # one or more paths: the flag takes several, env separates with os.pathsep
    TEXT = "text"
    SECONDS = "seconds"  # a positive number of seconds
    FLAG = "flag"  # on/off: the flag has no value; env and ini take 1/0, true/false, yes/no, on/off
    IMAGE_MAP = "image-map"  # REF=LOCAL entries: the flag repeats, env and ini separate with commas
    CHOICE = "choice"
    URL = "url"  # http(s)://HOST[:PORT][/PATH]
    OPTIONAL_TEXT = "optional-text"  # the flag alone switches something on; its value is optional
    LIST = "list"  # the flag repeats; env separates with commas, ini with lines


@dataclass(frozen=True)
class Setting:
    flag: str  # e.g. "--opspec"
    dest: str
    env: str
    ini: str
    help: str
    kind: Kind = Kind.TEXT
    metavar: str = ""
    choices: tuple[str, ...] = ()
    default: Any = None

    def named(self, source: Source) -> str:
        """How a person finds the value: the flag, ``env VAR`` or ``ini key``."""
        return {Source.CLI: self.flag, Source.ENV: f"env {self.env}", Source.INI: f"ini {self.ini}"}.get(
            source, self.flag)


OPSPEC_PATHS = Setting(
    flag="--opspec", dest="opspec_paths", env="OPSPEC_PATHS", ini="opspec_paths", kind=Kind.PATHS, metavar="PATH",
    help="collect the op packages (directories with an op.yml) found at or below PATH: a validation test per "
         "package and one test per scenario in its scenarios.yml/scenarios.json",
)
NODE_URL = Setting(
    flag="--opspec-node-url", dest="opspec_node_url", env="OPSPEC_NODE_URL", ini="opspec_node_url", metavar="URL",
    kind=Kind.URL,
    help="run every op through the opspec node at URL instead of the bundled in-process executor",
)
IMAGE_MAP = Setting(
    flag="--opspec-image-map", dest="opspec_image_map", env="OPSPEC_IMAGE_MAP", ini="opspec_image_map",
    kind=Kind.IMAGE_MAP, metavar="REF=LOCAL",
    help="run image REF as LOCAL, e.g. alpine:3.19=local/busybox:1 (repeatable; comma-separated in env and ini)",
)
PULL = Setting(
    flag="--opspec-pull", dest="opspec_pull", env="OPSPEC_PULL", ini="opspec_pull", kind=Kind.CHOICE,
    metavar="POLICY", choices=tuple(p.value for p in PullPolicy), default=PullPolicy.MISSING.value,
    help="when to pull images: always, missing (default) or never",
)
TIMEOUT = Setting(
    flag="--opspec-timeout", dest="opspec_timeout", env="OPSPEC_TIMEOUT", ini="opspec_timeout", kind=Kind.SECONDS,
    metavar="SECONDS", default=600.0,
    help="kill an op (scenario or op_runner run) that has not ended after SECONDS (default 600)",
)
KEEP_CONTAINERS = Setting(
    flag="--opspec-keep-containers", dest="opspec_keep_containers", env="OPSPEC_KEEP_CONTAINERS",
    ini="opspec_keep_containers", kind=Kind.FLAG, default=False,
    help="leave finished containers in place for debugging (the next session's start-up sweep removes them)",
)

# One per conformance option; `--opspec-conformance [URL]` switches the suite on.
CONFORMANCE: dict[str, Setting] = {
    option.name: Setting(
        flag=option.pytest_flag, dest=option.ini, env=option.env, ini=option.ini, metavar=option.metavar,
        kind=Kind.OPTIONAL_TEXT if not option.flag else Kind.LIST if option.multiple else Kind.TEXT,
        help=("run the node conformance suite as tests against the node at URL; " if not option.flag
              else "conformance suite: ") + option.help,
    )
    for option in CONFORMANCE_OPTIONS
}

SETTINGS: tuple[Setting, ...] = (OPSPEC_PATHS, NODE_URL, IMAGE_MAP, PULL, TIMEOUT, KEEP_CONTAINERS,
                                 *CONFORMANCE.values())

IniType = Literal["string", "paths", "linelist", "bool"]
_INI_TYPES: dict[Kind, IniType] = {Kind.PATHS: "paths", Kind.IMAGE_MAP: "linelist", Kind.LIST: "linelist",
                                   Kind.FLAG: "bool"}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("opspec", "opspec op packages (pytest-opspec)")
    for setting in SETTINGS:
        where = f"(precedence: {setting.flag} > env {setting.env} > ini {setting.ini})"
        help_text = f"{setting.help} {where}"
        if setting.kind is Kind.PATHS:
            group.addoption(setting.flag, dest=setting.dest, action="extend", nargs="+", metavar=setting.metavar,
                            default=None, help=help_text)
        elif setting.kind in (Kind.IMAGE_MAP, Kind.LIST):
            group.addoption(setting.flag, dest=setting.dest, action="append", metavar=setting.metavar,
                            default=None, help=help_text)
        elif setting.kind is Kind.OPTIONAL_TEXT:
            group.addoption(setting.flag, dest=setting.dest, nargs="?", const="", metavar=setting.metavar,
                            default=None, help=help_text)
        elif setting.kind is Kind.FLAG:
            group.addoption(setting.flag, dest=setting.dest, action="store_true", default=None, help=help_text)
        else:
            group.addoption(setting.flag, dest=setting.dest, metavar=setting.metavar, default=None,
                            choices=setting.choices or None, help=help_text)
        parser.addini(setting.ini, type=_INI_TYPES.get(setting.kind, "string"), default=None,
                      help=f"{setting.help}; overridden by env {setting.env} and {setting.flag}")


def resolve(config: pytest.Config, setting: Setting) -> tuple[Any, Source]:
    """The setting's parsed value and where it came from: CLI flag > env var > ini > default."""
    raw, source = _raw(config, setting)
    if source is Source.DEFAULT:
        return ([] if setting.kind in (Kind.PATHS, Kind.LIST) else {} if setting.kind is Kind.IMAGE_MAP
                else setting.default), source
    try:
        return _parse(setting, raw, source), source
    except ValueError as error:
        raise pytest.UsageError(f"{setting.named(source)}: {error}") from None


def _raw(config: pytest.Config, setting: Setting) -> tuple[Any, Source]:
    value = config.getoption(setting.dest)
    if value not in (None, [], ""):  # an optional-valued flag given alone does not set the value
        return value, Source.CLI
    env = os.environ.get(setting.env)
    if env is not None and env.strip():
        return env.strip(), Source.ENV
    ini = config.getini(setting.ini)
    if ini not in (None, [], ""):
        return ini, Source.INI
    return None, Source.DEFAULT


def _parse(setting: Setting, raw: Any, source: Source) -> Any:
    kind = setting.kind
    if kind is Kind.PATHS:
        if source is Source.ENV:
            return [Path(item) for item in raw.split(os.pathsep) if item]
        return [Path(item) for item in raw]  # ini paths are already relative to the ini file
    if kind is Kind.LIST:
        if source is Source.ENV:
            return [item.strip() for item in raw.split(",") if item.strip()]
        return [str(item) for item in raw]
    if kind is Kind.IMAGE_MAP:
        try:
            return parse_image_map(raw)
        except ImageMapError as error:
            raise ValueError(str(error)) from None
    if kind is Kind.FLAG:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError(f"{raw!r} is not on/off (use 1/0, true/false, yes/no or on/off)")
    text = str(raw).strip()
    if kind is Kind.SECONDS:
        return positive_seconds(text)
    if kind is Kind.URL:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{text!r} is not an http(s) URL (e.g. http://127.0.0.1:42224)")
        return text.rstrip("/")
    if kind is Kind.CHOICE and text not in setting.choices:
        raise ValueError(f"{text!r} is not one of {', '.join(setting.choices)}")
    return text


@dataclass(frozen=True)
class PluginSettings:
    """Every setting, parsed. ``paths_source`` tells whether the package paths came from the command line."""

    paths: list[Path] = field(default_factory=list)
    paths_source: Source = Source.DEFAULT
    node_url: str | None = None
    image_map: dict[str, str] = field(default_factory=dict)
    pull: PullPolicy = PullPolicy.MISSING
    timeout: float = TIMEOUT.default
    keep_containers: bool = False


def load(config: pytest.Config) -> PluginSettings:
    paths, paths_source = resolve(config, OPSPEC_PATHS)
    return PluginSettings(
        paths=paths, paths_source=paths_source, node_url=resolve(config, NODE_URL)[0],
        image_map=resolve(config, IMAGE_MAP)[0], pull=PullPolicy(resolve(config, PULL)[0]),
        timeout=resolve(config, TIMEOUT)[0], keep_containers=resolve(config, KEEP_CONTAINERS)[0],
    )


def conformance_requested(config: pytest.Config) -> bool:
    """``--opspec-conformance`` was given (with or without a URL)."""
    return config.getoption(CONFORMANCE["url"].dest) is not None


def conformance_raw(config: pytest.Config) -> dict[str, tuple[Any, str]]:
    """The conformance options that were set, as ``{name: (raw value, where)}`` for conformance.Config."""
    raw = {}
    for name, setting in CONFORMANCE.items():
        value, source = resolve(config, setting)
        if source is not Source.DEFAULT:
            raw[name] = (value, setting.named(source))
    return raw
