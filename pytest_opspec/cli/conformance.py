"""`opspec conformance`: check a node against the opspec node API, with a report."""

from __future__ import annotations

import argparse

from .common import Command


def _configure_conformance(parser: argparse.ArgumentParser) -> None:
    from ..conformance.cli import configure

    configure(parser)


def conformance(args: argparse.Namespace) -> int:
    from ..conformance.cli import run as run_conformance

    return run_conformance(args)


COMMAND = Command(
    "conformance", "check a node against the opspec node API, with a report (default: the bundled node)",
    _configure_conformance, conformance,
)
