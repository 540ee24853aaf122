"""What every `opspec` subcommand shares: exit codes, the usage error, the command record, and the
container options of `run` and `node`."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Callable

from ..errors import OpspecError
from ..runtime.base import PullPolicy, parse_image_map

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(OpspecError):
    """The command line itself is wrong (exit 2)."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def add_container_arguments(parser: argparse.ArgumentParser) -> None:
    """How containers run; shared by `run` and `node` (read back with container_options)."""
    parser.add_argument("--image-map", action="append", default=None, metavar="REF=LOCAL",
                        help="run image REF as LOCAL, e.g. alpine:3.6=local/busybox:1 (repeatable; "
                             "env OPSPEC_IMAGE_MAP, comma-separated)")
    parser.add_argument("--pull", choices=[p.value for p in PullPolicy], default=None,
                        help="when to pull images: always, missing (default) or never (env OPSPEC_PULL)")
    parser.add_argument("--tty", action="store_true",
                        help="give containers a TTY, as the reference does (stderr then merges into stdout)")
    parser.add_argument("--keep-containers", action="store_true",
                        help="leave finished containers in place for debugging (env OPSPEC_KEEP_CONTAINERS=1)")


def setting(flag_value: object, env: str, default: object = None) -> object:
    if flag_value not in (None, False):
        return flag_value
    return os.environ.get(env) or default


@dataclass(frozen=True)
class ContainerOptions:
    image_map: dict[str, str]
    pull_policy: PullPolicy
    tty: bool
    keep_containers: bool


def container_options(args: argparse.Namespace) -> ContainerOptions:
    image_map = parse_image_map(args.image_map if args.image_map else os.environ.get("OPSPEC_IMAGE_MAP", ""))
    pull = str(setting(args.pull, "OPSPEC_PULL", PullPolicy.MISSING.value))
    if pull not in {p.value for p in PullPolicy}:
        raise UsageError(f"OPSPEC_PULL={pull!r}: expected always, missing or never")
    keep = bool(args.keep_containers or os.environ.get("OPSPEC_KEEP_CONTAINERS") in ("1", "true", "yes"))
    return ContainerOptions(image_map, PullPolicy(pull), bool(args.tty), keep)
