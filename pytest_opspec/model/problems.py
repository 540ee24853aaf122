"""Problems found in an op.yml, and the error that carries them.

Every problem names its file, line and column, a readable JSON path and a message, so all of
them can be printed at once as ``path/op.yml:LINE:COL: json.path: message``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Iterable

from ..errors import OpspecError
from .types import Position

# A location inside the document: mapping keys (str) and sequence indices (int).
Location = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


def json_pointer(location: Iterable[str | int]) -> str:
    """RFC 6901 pointer of a location ("" is the document root)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


def json_path(location: Iterable[str | int]) -> str:
    """Readable path: ``run.serial[1].container.dirs["/src"]``; ``$`` for the root."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            escaped = part.replace("\\", "\\\\").replace('"', '\\"')
            text += f'["{escaped}"]'
    return text or "$"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding in one op.yml."""

    file: Path
    message: str
    location: Location = ()
    position: Position | None = None
    severity: Severity = Severity.ERROR
    # Which check found it: "yaml", "schema", or a static check's name.
    check: str = "schema"

    @property
    def pointer(self) -> str:
        return json_pointer(self.location)

    @property
    def path(self) -> str:
        return json_path(self.location)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def relative_to(self, base: Path) -> Problem:
        """The same problem with its file shown relative to ``base`` when it is below it."""
        if self.file.is_absolute() and self.file.is_relative_to(base):
            return replace(self, file=self.file.relative_to(base))
        return self

    def format(self) -> str:
        where = f"{self.position.line}:{self.position.column}" if self.position else "1:1"
        prefix = "" if self.is_error else "warning: "
        return f"{self.file}:{where}: {self.path}: {prefix}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "line": self.position.line if self.position else None,
            "column": self.position.column if self.position else None,
            "path": self.path,
            "pointer": self.pointer,
            "severity": self.severity.value,
            "check": self.check,
            "message": self.message,
        }


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Document order (line, column), errors before warnings at the same place."""
    def key(problem: Problem) -> tuple[int, int, int, str]:
        line, column = (problem.position.line, problem.position.column) if problem.position else (0, 0)
        return (line, column, 0 if problem.is_error else 1, problem.message)
    return sorted(problems, key=key)


@dataclass(eq=False)
class InvalidOpError(OpspecError):
    """An op.yml that cannot be loaded; ``problems`` holds every error found (never empty)."""

    file: Path
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.file, self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def __str__(self) -> str:
        errors = self.errors
        lines = [f"{self.file}: invalid op ({len(errors)} error{'s' if len(errors) != 1 else ''})"]
        lines += [p.format() for p in errors]
        return "\n".join(lines)
