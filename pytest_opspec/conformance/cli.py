"""`opspec conformance [URL]`: the suite from the command line (the command is pytest_opspec/cli/conformance.py).

Exit status: 0 when no check at or above ``--fail-on`` (default MUST) failed and the suite had no
error, 1 otherwise; 2 for a usage error; 3 for a set-up error (the node could not be checked at all).
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from ..options import CONFORMANCE_OPTIONS, add_command_options, read_command_options
from .config import Config


def configure(parser: argparse.ArgumentParser) -> None:
    add_command_options(parser, "conformance", CONFORMANCE_OPTIONS)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary, not a line per check")
    parser.add_argument("--list", action="store_true", help="list the profile's checks (id, level, clause) and exit")


def config_from_args(args: argparse.Namespace) -> Config:
    """Flags win over ``OPSPEC_CONFORMANCE_*`` env vars; raises OptionError naming the bad one."""
    return Config.from_values(read_command_options(args, "conformance", CONFORMANCE_OPTIONS))


def run(args: argparse.Namespace) -> int:
    from .config import redact_url
    from .report import render_summary, write_reports
    from .report.terminal import render_result
    from .runner import Suite, selected_checks

    config = config_from_args(args)
    if args.list:
        for check, disabled in selected_checks(config):
            print(f"{check.id} [{check.level.value}]{' (disabled)' if disabled else ''}\n"
                  f"  {check.title}\n  clause: {check.clause}")
        return 0
    suite = Suite(config)
    target = redact_url(config.url) if config.url else (
        f"a node started from image {config.node_image}" if config.node_image else "the bundled node")
    print(f"opspec conformance: checking {target} against the node API {config.profile}", flush=True)

    def on_result(result: Any) -> None:
        if not args.quiet:
            print(render_result(result), flush=True)

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        result = suite.run(on_result)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("\n" + render_summary(result))
    for path in write_reports(result):
        print(f"wrote {path}", file=sys.stderr)
    return result.exit_status

