"""The ``opspec`` command line: one module per subcommand, each with its ``COMMAND``.

Exit codes: 0 success, 1 failure (e.g. an invalid op), 2 usage error. User errors print one
clear message to stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .. import OPSPEC_VERSION, __version__
from ..errors import OpspecError
from ..options import OptionError
from ..registry import Registry
from . import conformance, node, pkg, run, validate
from .common import EXIT_FAILED, Command, UsageError

COMMANDS: Registry[Command] = Registry("command")
for _command in (validate.COMMAND, run.COMMAND, pkg.COMMAND, node.COMMAND, conformance.COMMAND):
    COMMANDS.add(_command.name, _command)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``only``, just that command's options are set up (the others
    keep their names and help): setting up a command may import what only that command needs."""
    parser = argparse.ArgumentParser(prog="opspec", description=f"Tools for opspec {OPSPEC_VERSION} op packages.")
    parser.add_argument("--version", action="version",
                        version=f"opspec (pytest-opspec) {__version__}, opspec spec {OPSPEC_VERSION}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        sub = subparsers.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        if only is None or cmd.name == only:
            cmd.configure(sub)
        sub.set_defaults(run=cmd.run, parser=sub)  # usage errors show the subcommand's usage
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # The first word that is not an option names the command (the top level has no option with a value).
    parser = build_parser(next((word for word in argv if not word.startswith("-")), None))
    args = parser.parse_args(argv)  # exits 2 with a usage message on bad arguments
    try:
        return int(args.run(args))
    except (UsageError, OptionError) as error:
        args.parser.error(str(error))  # exits 2
    except OpspecError as error:
        print(f"opspec: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing left to say
        return EXIT_FAILED
    return EXIT_FAILED  # not reached: parser.error exits
