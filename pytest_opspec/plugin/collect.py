"""Collection of op packages as pytest items (the plugin's hooks in plugin.py call into this).

Each op package directory becomes a collector node whose id is the package path (e.g.
``examples/hello``). It yields the package's opspec items first, made by the
``pytest_opspec_collect_package_items`` hook (the plugin's own implementation in hooks.py makes the
``validate`` item here and one item per scenario, items.py), then whatever pytest normally collects in
that directory (ordinary test files, sub-directories).
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path
from typing import Any, Iterator

import pytest

from ..errors import OpspecError
from ..model import OP_FILE, OpCache, ValidationReport, validate_package
from ..pkgs.resolve import PackageResolver
from ..model.render import render_report, summary_line
from ..pkgs.discover import find_packages
from .selection import PackageArgs
from ..model.scenarios import Kind, Scenario, ScenarioFileError, find_scenario_file, load_scenarios


class OpspecWarning(UserWarning):
    """A warning about an op package (deprecated form, unresolvable ref, ...)."""


class OpValidationFailed(OpspecError):
    """An op package has validation errors; str() is the full report with snippets."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(f"{summary_line(report)}\n{render_report(report)}")


class OpspecSession:
    """The op packages selected for one pytest session, and what their items share."""

    def __init__(self, roots: list[Path], packages: PackageResolver, named: PackageArgs | None = None) -> None:
        self.packages = list(dict.fromkeys(package.resolve() for package in find_packages(roots)))
        self.named = named or PackageArgs()  # the packages (and items) the command line names
        self._packages = set(self.packages)
        # Directories pytest must enter to reach the packages, even when it would skip them
        # by default (hidden `.opspec`, `build`, ...).
        self._ancestors: set[Path] = set()
        for package in self.packages:
            for parent in package.parents:
                if parent in self._ancestors:
                    break
                self._ancestors.add(parent)
        self.cache = OpCache(packages)  # remote callees are checked when available without the network

    def is_package(self, path: Path) -> bool:
        return path in self._packages

    def leads_to_package(self, path: Path) -> bool:
        return path in self._packages or path in self._ancestors


class OpPackageDir(pytest.Directory):
    """An op package directory: its opspec items first, then what pytest collects there as usual."""

    opspec: OpspecSession

    @functools.cached_property
    def scenarios(self) -> list[Scenario]:
        """The scenarios of the package's scenario file ([] without one); a broken file fails collection."""
        try:
            file = find_scenario_file(self.path)
            return load_scenarios(file) if file is not None else []
        except ScenarioFileError as error:
            raise self.CollectError(str(error.relative_to(self.config.invocation_params.dir))) from None

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        named = self.opspec.named
        for items in self.ihook.pytest_opspec_collect_package_items(package=self):
            yield from (item for item in items or () if named.wants(self.path, item.name))
        if not named.selects_items(self.path):
            yield from self._collect_entries()

    def _collect_entries(self) -> Iterator[pytest.Item | pytest.Collector]:
        """Sub-directories and files, through pytest's own hooks (what pytest.Dir does)."""
        ihook, config = self.ihook, self.config
        for entry in sorted(os.scandir(self.path), key=lambda e: e.name):
            path = Path(entry.path)
            if entry.is_dir():
                if entry.name == "__pycache__" or ihook.pytest_ignore_collect(collection_path=path, config=config):
                    continue
                collector = ihook.pytest_collect_directory(path=path, parent=self)
                if collector is not None:
                    yield collector
            elif entry.is_file():
                if not ihook.pytest_ignore_collect(collection_path=path, config=config):
                    yield from ihook.pytest_collect_file(file_path=path, parent=self)


def package_collector(path: Path, parent: pytest.Collector, session: OpspecSession) -> pytest.Collector:
    node = OpPackageDir.from_parent(parent, path=path)
    node.opspec = session
    return node


class OpValidationItem(pytest.Function):
    """``<package>::validate``: YAML 1.2, the op.yml schema and the static checks."""

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path / OP_FILE, 0, self.name

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, OpValidationFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def check_package(package: OpPackageDir, *, spec_level: bool = False) -> ValidationReport:
    """Validate the package; its warnings become pytest warnings at their op.yml line.

    ``spec_level``: only YAML and schema errors count (see ValidationReport.spec_level).
    """
    report = validate_package(package.path, package.opspec.cache).relative_to(package.config.invocation_params.dir)
    if spec_level:
        report = report.spec_level()
    for problem in report.warnings:
        line = problem.position.line if problem.position else 1
        warnings.warn_explicit(OpspecWarning(problem.format()), OpspecWarning, os.fspath(problem.file), line)
    return report


def validation_items(package: OpPackageDir) -> list[pytest.Item]:
    # `validate` scenarios say whether the package is meant to be valid; they replace this item.
    if any(scenario.kind is Kind.VALIDATE for scenario in package.scenarios):
        return []

    def validate() -> None:
        report = check_package(package)
        if not report.ok:
            raise OpValidationFailed(report)

    validate.__doc__ = f"Validate {package.path / OP_FILE}."
    return [OpValidationItem.from_parent(package, name="validate", callobj=validate)]
