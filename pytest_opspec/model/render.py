"""Render validation results for people: problem lines, and op.yml snippets with a caret."""

from __future__ import annotations

from pathlib import Path

from .problems import Problem
from .validate import ValidationReport

SNIPPET_CONTEXT = 2
MAX_SNIPPETS = 20


def source_lines(file: Path) -> list[str]:
    """The lines of ``file`` as text; [] when it cannot be read as text."""
    try:
        return file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def snippet(lines: list[str], problem: Problem, context: int = SNIPPET_CONTEXT) -> str:
    """The lines around the problem, numbered, with a caret under its column."""
    if problem.position is None or not lines or problem.position.line > len(lines):
        return ""
    line, column = problem.position.line, problem.position.column
    first, last = max(1, line - context), min(len(lines), line)
    width = len(str(last))
    out = []
    for number in range(first, last + 1):
        marker = ">" if number == line else " "
        out.append(f"{marker} {number:>{width}} | {lines[number - 1]}")
    out.append(f"  {'':>{width}} | {' ' * (column - 1)}^")
    return "\n".join(out)


def render_report(report: ValidationReport, snippets: bool = True, warnings: bool = True) -> str:
    """Every problem line of a package, each error followed by its snippet."""
    shown = [p for p in report.problems if warnings or p.is_error]
    lines = source_lines(report.file) if snippets else []
    blocks = []
    for index, problem in enumerate(shown):
        text = problem.format()
        if snippets and problem.is_error and index < MAX_SNIPPETS:
            code = snippet(lines, problem)
            if code:
                text += "\n" + code
        blocks.append(text)
    return "\n".join(blocks)


def summary_line(report: ValidationReport) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    state = "valid" if report.ok else "invalid"
    return f"{report.file}: {state} ({_count(errors, 'error')}, {_count(warnings, 'warning')})"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
