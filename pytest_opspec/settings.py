"""The plugin's settings: each one read from a CLI flag, else an ``OPSPEC_*`` env var, else an ini key.

One table (SETTINGS) says where each setting comes from; ``add_options`` registers them all with
pytest and ``resolve`` applies the precedence, so every setting behaves the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest


class Source(StrEnum):
    CLI = "cli"
    ENV = "env"
    INI = "ini"
    DEFAULT = "default"


@dataclass(frozen=True)
class Setting:
    flag: str  # e.g. "--opspec"
    dest: str
    env: str
    ini: str
    help: str


OPSPEC_PATHS = Setting(
    flag="--opspec", dest="opspec_paths", env="OPSPEC_PATHS", ini="opspec_paths",
    help="collect the op packages (directories with an op.yml) found at or below PATH: one "
         "validation test per package",
)

SETTINGS: tuple[Setting, ...] = (OPSPEC_PATHS,)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("opspec", "opspec op packages (pytest-opspec)")
    for setting in SETTINGS:
        where = f"(precedence: {setting.flag} > env {setting.env} > ini {setting.ini})"
        group.addoption(setting.flag, dest=setting.dest, action="extend", nargs="+", metavar="PATH",
                        default=None, help=f"{setting.help} {where}")
        parser.addini(setting.ini, type="paths", default=[],
                      help=f"{setting.help}; overridden by env {setting.env} and {setting.flag}")


def resolve(config: pytest.Config, setting: Setting) -> tuple[Any, Source]:
    """The setting's value and where it came from: CLI flag > env var > ini > default.

    Every setting so far is a list of paths: the env var separates them with os.pathsep, the ini
    key with spaces or newlines (relative to the ini file), the flag takes one or more.
    """
    value = config.getoption(setting.dest)
    if value:
        return [Path(item) for item in value], Source.CLI
    env = os.environ.get(setting.env, "").strip()
    if env:
        return [Path(item) for item in env.split(os.pathsep) if item], Source.ENV
    ini = config.getini(setting.ini)
    if ini:
        return list(ini), Source.INI
    return [], Source.DEFAULT
