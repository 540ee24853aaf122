"""What every `opspec` subcommand shares: exit codes, the usage error and the command record. Their
settings come from the option table (pytest_opspec/options.py)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

from ..errors import OpspecError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(OpspecError):
    """The command line itself is wrong (exit 2)."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
