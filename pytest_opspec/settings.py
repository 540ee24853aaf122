"""The plugin's settings: each one read from a CLI flag, else an ``OPSPEC_*`` env var, else an ini key.

One table (SETTINGS) says where each setting comes from; ``add_options`` registers them all with
pytest and ``resolve`` applies the precedence, so every setting behaves the same way. The conformance
suite's settings are derived from its own option table (conformance/config.py), which `opspec
conformance` shares.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import pytest

from conformance.config import OPTIONS as CONFORMANCE_OPTIONS


class Source(StrEnum):
    CLI = "cli"
    ENV = "env"
    INI = "ini"
    DEFAULT = "default"


class Kind(StrEnum):
    PATHS = "paths"  # one or more paths: the flag takes several, env separates with os.pathsep
    TEXT = "text"
    OPTIONAL_TEXT = "optional-text"  # the flag alone switches something on; its value is optional
    LIST = "list"  # the flag repeats; env separates with commas, ini with lines


@dataclass(frozen=True)
class Setting:
    flag: str  # e.g. "--opspec"
    dest: str
    env: str
    ini: str
    help: str
    kind: Kind = Kind.PATHS
    metavar: str = "PATH"

    def named(self, source: Source) -> str:
        """How a person finds the value: the flag, ``env VAR`` or ``ini key``."""
        return {Source.ENV: f"env {self.env}", Source.INI: f"ini {self.ini}"}.get(source, self.flag)


OPSPEC_PATHS = Setting(
    flag="--opspec", dest="opspec_paths", env="OPSPEC_PATHS", ini="opspec_paths",
    help="collect the op packages (directories with an op.yml) found at or below PATH: one "
         "validation test per package",
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

SETTINGS: tuple[Setting, ...] = (OPSPEC_PATHS, *CONFORMANCE.values())

_INI_TYPES: dict[Kind, Literal["paths", "linelist"]] = {Kind.PATHS: "paths", Kind.LIST: "linelist"}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("opspec", "opspec op packages (pytest-opspec)")
    for setting in SETTINGS:
        where = f"(precedence: {setting.flag} > env {setting.env} > ini {setting.ini})"
        help_text = f"{setting.help} {where}"
        if setting.kind is Kind.PATHS:
            group.addoption(setting.flag, dest=setting.dest, action="extend", nargs="+", metavar=setting.metavar,
                            default=None, help=help_text)
        elif setting.kind is Kind.LIST:
            group.addoption(setting.flag, dest=setting.dest, action="append", metavar=setting.metavar,
                            default=None, help=help_text)
        elif setting.kind is Kind.OPTIONAL_TEXT:
            group.addoption(setting.flag, dest=setting.dest, nargs="?", const="", metavar=setting.metavar,
                            default=None, help=help_text)
        else:
            group.addoption(setting.flag, dest=setting.dest, metavar=setting.metavar, default=None, help=help_text)
        parser.addini(setting.ini, type=_INI_TYPES.get(setting.kind, "string"), default=None,
                      help=f"{setting.help}; overridden by env {setting.env} and {setting.flag}")


def resolve(config: pytest.Config, setting: Setting) -> tuple[Any, Source]:
    """The setting's value and where it came from: CLI flag > env var > ini > default.

    Paths: the env var separates them with os.pathsep, the ini key with spaces or newlines (relative
    to the ini file), the flag takes one or more. Lists: the flag repeats, the env var separates with
    commas, the ini key with lines. Otherwise the raw text (a flag given without its optional value
    counts as not given here).
    """
    value = config.getoption(setting.dest)
    if value:
        return ([Path(item) for item in value] if setting.kind is Kind.PATHS else value), Source.CLI
    env = os.environ.get(setting.env, "").strip()
    if env:
        if setting.kind is Kind.PATHS:
            return [Path(item) for item in env.split(os.pathsep) if item], Source.ENV
        if setting.kind is Kind.LIST:
            return [item.strip() for item in env.split(",") if item.strip()], Source.ENV
        return env, Source.ENV
    ini = config.getini(setting.ini)
    if ini:
        return (list(ini) if setting.kind in (Kind.PATHS, Kind.LIST) else ini), Source.INI
    return ([] if setting.kind in (Kind.PATHS, Kind.LIST) else None), Source.DEFAULT


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
