"""The ``opspec`` command line: one function per subcommand, registered in COMMANDS.

Exit codes: 0 success, 1 failure (e.g. an invalid op), 2 usage error. User errors print one
clear message to stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Callable, Sequence

from . import OPSPEC_VERSION, __version__
from .errors import OpspecError
from .model import OpCache, ValidationReport, validate_package
from .model.render import render_report, summary_line
from .pkgs.discover import find_packages

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(OpspecError):
    """The command line itself is wrong (exit 2)."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


Runner = Callable[[argparse.Namespace], int]


def command(name: str, summary: str,
            configure: Callable[[argparse.ArgumentParser], None]) -> Callable[[Runner], Runner]:
    """Register the decorated function as subcommand ``name``."""
    def register(run: Runner) -> Runner:
        COMMANDS[name] = Command(name, summary, configure, run)
        return run
    return register


# -- validate -----------------------------------------------------------------------------------

def _configure_validate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="an op package (a directory with an op.yml), its op.yml, or a tree to search")
    parser.add_argument("--format", choices=("human", "json"), default="human",
                        help="output format (default: human)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only invalid packages and their errors, no warnings")


@command("validate", "validate op packages (YAML 1.2, the op.yml schema and static checks)", _configure_validate)
def validate(args: argparse.Namespace) -> int:
    try:
        packages = find_packages(args.paths)
    except OSError as error:
        raise UsageError(str(error)) from None
    cache = OpCache()
    reports = [validate_package(package, cache) for package in packages]
    invalid = [report for report in reports if not report.ok]
    if args.format == "json":
        json.dump({"valid": bool(reports) and not invalid,
                   "summary": _summary(reports),
                   "packages": [report.to_json() for report in reports]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for report in reports:
            if args.quiet and report.ok:
                continue
            body = render_report(report, snippets=False, warnings=not args.quiet)
            print(f"{body}\n{summary_line(report)}" if body else summary_line(report))
        print(_summary_text(reports, args.paths))
    return EXIT_OK if reports and not invalid else EXIT_FAILED


def _summary(reports: list[ValidationReport]) -> dict[str, int]:
    return {
        "packages": len(reports),
        "valid": sum(1 for r in reports if r.ok),
        "invalid": sum(1 for r in reports if not r.ok),
        "errors": sum(len(r.errors) for r in reports),
        "warnings": sum(len(r.warnings) for r in reports),
    }


def _summary_text(reports: list[ValidationReport], paths: Sequence[str]) -> str:
    if not reports:
        return f"no op packages (directories with an op.yml) found in {', '.join(paths)}"
    s = _summary(reports)
    return (f"{s['packages']} package{'s' if s['packages'] != 1 else ''}: {s['valid']} valid, "
            f"{s['invalid']} invalid ({s['errors']} errors, {s['warnings']} warnings)")


# -- entry point --------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opspec", description=f"Tools for opspec {OPSPEC_VERSION} op packages.")
    parser.add_argument("--version", action="version",
                        version=f"opspec (pytest-opspec) {__version__}, opspec spec {OPSPEC_VERSION}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        sub = subparsers.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.configure(sub)
        sub.set_defaults(run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage message on bad arguments
    try:
        return int(args.run(args))
    except UsageError as error:
        parser.error(str(error))  # exits 2
    except OpspecError as error:
        print(f"opspec: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing left to say
        return EXIT_FAILED
    return EXIT_FAILED  # not reached: parser.error exits


if __name__ == "__main__":
    sys.exit(main())
