"""Validate a package: YAML, schema and static checks, every problem at once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .checks import OpCache, run_checks
from .build import build_op
from .load import op_file_of, read_op_document, schema_problems
from .salvage import salvage_op
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

    Schema errors do not hide static findings: the static checks also run on the schema-valid rest of
    the op (findings inside a part the schema rejects are left to the schema's message).
    Pass one ``cache`` to many calls so that callees shared by several packages load once.
    """
    file = op_file_of(path)
    try:
        document = read_op_document(file)
    except InvalidOpError as error:
        return ValidationReport(file.parent, file, sort_problems(error.problems))
    problems = schema_problems(file, document)
    if not problems:
        op = build_op(document.data, file, document.positions, document.key_positions)
        return ValidationReport(file.parent, file, sort_problems(run_checks(op, cache)), op)
    salvaged = salvage_op(file, document)
    if salvaged is not None:
        reported = {(problem.location, problem.message) for problem in problems}
        problems += [problem for problem in run_checks(salvaged.op, cache)
                     if not salvaged.covers(problem.location) and (problem.location, problem.message) not in reported]
    return ValidationReport(file.parent, file, sort_problems(problems))
