"""Collection of op packages as pytest items (the plugin's hooks in plugin.py call into this).

Each op package directory becomes a collector node whose id is the package path (e.g.
``examples/hello``). It yields the package's opspec items first (validation now; later issues
register more factories in ITEM_FACTORIES, e.g. scenarios), then whatever pytest normally
collects in that directory (ordinary test files, sub-directories).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pytest

from .errors import OpspecError
from .model import OP_FILE, OpCache, ValidationReport, validate_package
from .model.render import render_report, summary_line
from .pkgs.discover import find_packages


class OpspecWarning(UserWarning):
    """A warning about an op package (deprecated form, unresolvable ref, ...)."""


class OpValidationFailed(OpspecError):
    """An op package has validation errors; str() is the full report with snippets."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(f"{summary_line(report)}\n{render_report(report)}")


class OpspecSession:
    """The op packages selected for one pytest session, and what their items share."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = [root.resolve() for root in roots]
        self.packages = [package.resolve() for package in find_packages(roots)]
        self._packages = set(self.packages)
        # Directories pytest must enter to reach the packages, even when it would skip them
        # by default (hidden `.opspec`, `build`, ...).
        self._ancestors: set[Path] = set()
        for package in self.packages:
            for parent in package.parents:
                if parent in self._ancestors:
                    break
                self._ancestors.add(parent)
        self.cache = OpCache()

    def is_package(self, path: Path) -> bool:
        return path in self._packages

    def leads_to_package(self, path: Path) -> bool:
        return path in self._packages or path in self._ancestors


ItemFactory = Callable[["OpPackageMixin"], Iterable[pytest.Item]]
# Functions that make a package's opspec items, in order. Extend this to add item kinds.
ITEM_FACTORIES: list[ItemFactory] = []


class OpPackageMixin:
    """Shared by the directory collectors below: opspec items first, then the usual ones."""

    opspec: OpspecSession
    path: Path

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        for factory in ITEM_FACTORIES:
            yield from factory(self)
        yield from super().collect()  # type: ignore[misc]


class OpPackageDir(OpPackageMixin, pytest.Dir):
    """An op package directory."""


class OpPythonPackage(OpPackageMixin, pytest.Package):
    """An op package directory that is also a Python package (has __init__.py)."""


def package_collector(path: Path, parent: pytest.Collector, session: OpspecSession) -> pytest.Collector:
    cls = OpPythonPackage if (path / "__init__.py").is_file() else OpPackageDir
    node = cls.from_parent(parent, path=path)
    node.opspec = session
    return node


class OpValidationItem(pytest.Function):
    """``<package>::validate``: YAML 1.2, the op.yml schema and the static checks."""

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path / OP_FILE, 0, self.name

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        if isinstance(excinfo.value, OpValidationFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def validation_items(package: OpPackageMixin) -> list[pytest.Item]:
    pkg_dir, cache = package.path, package.opspec.cache
    shown_from = package.config.invocation_params.dir  # type: ignore[attr-defined]

    def validate() -> None:
        report = validate_package(pkg_dir, cache).relative_to(shown_from)
        for problem in report.warnings:
            line = problem.position.line if problem.position else 1
            warnings.warn_explicit(OpspecWarning(problem.format()), OpspecWarning, os.fspath(problem.file), line)
        if not report.ok:
            raise OpValidationFailed(report)

    validate.__doc__ = f"Validate {pkg_dir / OP_FILE}."
    return [OpValidationItem.from_parent(package, name="validate", callobj=validate)]  # type: ignore[arg-type]


ITEM_FACTORIES.append(validation_items)
