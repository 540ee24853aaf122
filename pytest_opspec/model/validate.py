"""Validate a package: YAML, schema and static checks, every problem at once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .checks import OpCache, run_checks
from .load import load_op, op_file_of
from .problems import InvalidOpError, Problem, Severity, sort_problems
from .types import OpDefinition


# Problems found by reading op.yml as YAML 1.2 and validating it against the schema; the rest come from
# the static checks.
SPEC_CHECKS = frozenset({"yaml", "schema"})


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What validating one package found. ``op`` is None when op.yml could not be loaded."""

    pkg_dir: Path
    file: Path
    problems: list[Problem] = field(default_factory=list)
    op: OpDefinition | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def spec_level(self) -> ValidationReport:
        """The report by the seed's definition of a valid op.yml (YAML 1.2 and the op.yml schema): errors
        of the static checks become warnings. opctl's `validate` scenarios mean exactly this."""
        problems = [
            p if p.check in SPEC_CHECKS or not p.is_error
            else replace(p, severity=Severity.WARNING, message=f"{p.message} (the op fails when this is reached)")
            for p in self.problems
        ]
        return replace(self, problems=problems)

    def relative_to(self, base: Path) -> ValidationReport:
        """The same report with file paths shown relative to ``base`` when they are below it."""
        def shown(path: Path) -> Path:
            return path.relative_to(base) if path.is_absolute() and path.is_relative_to(base) else path

        problems = [replace(problem, file=shown(problem.file)) for problem in self.problems]
        return replace(self, file=shown(self.file), problems=problems)

    def to_json(self) -> dict[str, Any]:
        return {
            "package": str(self.pkg_dir),
            "file": str(self.file),
            "valid": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [p.to_json() for p in self.problems],
        }


def validate_package(path: str | Path, cache: OpCache | None = None) -> ValidationReport:
    """Validate the package at ``path`` (its directory or op.yml); never raises for a bad op.

    Pass one ``cache`` to many calls so that callees shared by several packages load once.
    """
    file = op_file_of(path)
    try:
        op = load_op(file)
    except InvalidOpError as error:
        return ValidationReport(file.parent, file, sort_problems(error.problems))
    return ValidationReport(file.parent, file, sort_problems(run_checks(op, cache)), op)
