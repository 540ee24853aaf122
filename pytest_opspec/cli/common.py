"""What every `opspec` subcommand shares: exit codes, the usage error and the package options read back from
the option table (pytest_opspec/options.py). Imported by `opspec --help`, so it stays light."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import OpspecError

if TYPE_CHECKING:
    from ..pkgs.resolve import PkgOptions

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(OpspecError):
    """The command line itself is wrong (exit 2)."""


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told the terminal's width: left to find it, argparse imports shutil (and zlib, bz2
    and lzma with it) for every parser and argument, also when no help is printed."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, terminal_columns() - 2 if width is None else width)


def terminal_columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size()`` finds it: $COLUMNS, else stdout's terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no stdout, closed, or not a terminal
        return 80


def package_options(values: Mapping[str, Any]) -> PkgOptions:
    """The package options among a command's option values (``read_command_options``)."""
    from ..pkgs.resolve import PkgOptions  # the commands that read packages have imported pkgs already

    return PkgOptions(cache_dir=values.get("pkg_cache"), offline=bool(values.get("offline")),
                      pkg_map=dict(values.get("pkg_map") or ()))
