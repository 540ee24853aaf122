"""The ``opspec`` command line: one module per subcommand, each with ``configure(parser)`` and ``run(args)``.

Only the module of the command being run is imported (``opspec run`` pays for nothing that ``validate``,
``node`` or ``conformance`` need); the table below gives every command's name and help for ``opspec --help``.

Exit codes: 0 success, 1 failure (e.g. an invalid op), 2 usage error. User errors print one
clear message to stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
from types import ModuleType
from typing import NamedTuple, NoReturn, Sequence

from .. import OPSPEC_VERSION, __version__
from ..errors import OpspecError
from ..options import OptionError
from ..registry import Registry
from .common import EXIT_FAILED, HelpFormatter, UsageError


class Command(NamedTuple):
    name: str
    help: str
    module: str  # the module under pytest_opspec.cli that configures and runs the command
    # Runs containers at once: the engine is asked what it needs (ping, /info) while the module loads.
    asks_engine_early: bool = False

    def load(self) -> ModuleType:
        return importlib.import_module(f"{__name__}.{self.module}")


COMMANDS: Registry[Command] = Registry("command")
for _command in (
    Command("validate", "validate op packages (YAML 1.2, the op.yml schema and static checks)", "validate"),
    Command("run", "run an op package in local Docker containers, streaming their output", "run",
            asks_engine_early=True),
    Command("pkg", "remote packages: `pull REF...` into the cache, `lock [PATH]` writes opspec.lock", "pkg"),
    Command("node", "serve the opspec node API (HTTP + WebSocket), running ops in local Docker containers", "node"),
    Command("conformance", "check a node against the opspec node API, with a report (default: the bundled node)",
            "conformance"),
):
    COMMANDS.add(_command.name, _command)


def build_parser(command: str | None) -> argparse.ArgumentParser:
    """The parser of every command, where only ``command`` has its options set up (the others keep their names
    and help): setting up a command imports its module, and with it what only that command needs."""
    parser = argparse.ArgumentParser(prog="opspec", description=f"Tools for opspec {OPSPEC_VERSION} op packages.",
                                     formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version",
                        version=f"opspec (pytest-opspec) {__version__}, opspec spec {OPSPEC_VERSION}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        sub = subparsers.add_parser(cmd.name, help=cmd.help, description=cmd.help, formatter_class=HelpFormatter)
        if cmd.name == command:
            if cmd.asks_engine_early:
                from ..runtime.engine_api import ask_early

                ask_early()
            module = cmd.load()
            module.configure(sub)
            sub.set_defaults(run=module.run)
        sub.set_defaults(parser=sub)  # usage errors show the subcommand's usage
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


def entry() -> NoReturn:
    """The ``opspec`` program: ``main()``, then an exit that skips tearing the interpreter down.

    Every command releases what it holds (containers, leases, files) before ``main`` returns, and the
    teardown of the modules a run loads took longer than removing its container (20-30 ms here). With
    another thread still alive, or output that cannot be flushed, the exit is the ordinary one.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream: let the interpreter deal with it
        sys.exit(code)
    if threading.active_count() > 1:
        sys.exit(code)
    os._exit(code)
