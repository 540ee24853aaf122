"""What every `opspec` subcommand shares: exit codes, the usage error, the command record, and the package
options read back from the option table (pytest_opspec/options.py)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import OpspecError
from ..pkgs import PkgOptions

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(OpspecError):
    """The command line itself is wrong (exit 2)."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def package_options(values: Mapping[str, Any]) -> PkgOptions:
    """The package options among a command's option values (``read_command_options``)."""
    return PkgOptions(cache_dir=values.get("pkg_cache"), offline=bool(values.get("offline")),
                      pkg_map=dict(values.get("pkg_map") or ()))
