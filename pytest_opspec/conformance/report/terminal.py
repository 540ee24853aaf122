"""The terminal report: a line per check as it finishes, then the matrix, the failures with their
clauses, and the verdict."""

from __future__ import annotations

import textwrap

from ..config import redact_url
from ..registry import Level
from ..runner import CheckResult, Outcome, SuiteRun
from .matrix import counts, matrix, verdict

LABELS = {Outcome.PASS: "PASS", Outcome.SKIP: "SKIP", Outcome.DISABLED: "DISABLED", Outcome.FAIL: "FAIL",
          Outcome.ERROR: "ERROR"}


def render_result(result: CheckResult) -> str:
    """One line: outcome, check, duration; why, for a skipped or disabled check."""
    line = f"{LABELS[result.outcome]:<9}{result.check.id} [{result.check.level.value}]"
    line = f"{line:<64} {result.duration:6.2f}s"
    if result.outcome in (Outcome.SKIP, Outcome.DISABLED):
        line += f"  {result.message}"
    return line


def render_header(run: SuiteRun) -> str:
    node = redact_url(run.url) + (" (the bundled node)" if run.bundled else "")
    return f"opspec node conformance: profile {run.profile.version} against {node}"


def render_summary(run: SuiteRun) -> str:
    rows = matrix(run)
    width = max(len(name) for name in rows) + 2
    cells = {name: [row[level].text() for level in Level] for name, row in rows.items()}
    column = max(len("SHOULD"), *(len(text) for texts in cells.values() for text in texts)) + 2
    lines = [render_header(run),
             f"{len(run.results)} checks in {run.duration:.1f} s: {counts(run) or 'none ran'}", "",
             "endpoint".ljust(width) + "".join(level.value.ljust(column) for level in Level)]
    for name, texts in cells.items():
        lines.append(name.ljust(width) + "".join(text.ljust(column) for text in texts))
    problems = [r for r in run.results if r.outcome in (Outcome.FAIL, Outcome.ERROR)]
    if problems:
        lines.append("")
    for result in problems:
        lines.append(f"{LABELS[result.outcome]} {result.check.id} [{result.check.level.value}]: "
                     f"{result.check.title}")
        lines.append(f"  clause: {result.check.clause}")
        lines += [textwrap.indent(result.message, "  ")]
    lines += ["", verdict(run)]
    return "\n".join(line.rstrip() for line in lines)
