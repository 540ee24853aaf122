"""`opspec validate`: validate op packages (exit 0 valid, 1 invalid, 2 usage)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Sequence

from ..model import OpCache, ValidationReport, validate_package
from ..model.render import render_report, summary_line
from ..model.scenarios import ScenarioFileError, find_scenario_file, load_scenarios
from ..options import add_command_options, read_command_options
from ..pkgs.resolve import PackageResolver
from ..pkgs.discover import find_packages
from .common import EXIT_FAILED, EXIT_OK, UsageError, package_options


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="an op package (a directory with an op.yml), its op.yml, or a tree to search")
    parser.add_argument("--format", choices=("human", "json"), default="human",
                        help="output format (default: human)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only invalid packages and their errors, no warnings")
    parser.add_argument("--fetch", action="store_true",
                        help="fetch remote packages that calls name (into the cache) so that those calls are checked "
                             "too; without it they are checked only when mapped, vendored or cached")
    add_command_options(parser, "validate")


def run(args: argparse.Namespace) -> int:
    try:
        packages = find_packages(args.paths)
    except OSError as error:
        raise UsageError(str(error)) from None
    options = package_options(read_command_options(args, "validate"))
    if args.fetch and options.offline:
        raise UsageError("--fetch and offline mode (--offline or env OPSPEC_OFFLINE) contradict each other")
    cache = OpCache(PackageResolver(options), fetch=args.fetch)
    reports = [with_scenarios(validate_package(package, cache)) for package in packages]
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


def with_scenarios(report: ValidationReport) -> ValidationReport:
    """The report with the problems of the package's scenarios.yml/scenarios.json (a broken one stops pytest
    from collecting the package's tests), each at its line."""
    try:
        file = find_scenario_file(report.pkg_dir)
        if file is not None:
            load_scenarios(file)
    except ScenarioFileError as error:
        return replace(report, problems=[*report.problems, *error.problems])
    return report


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
