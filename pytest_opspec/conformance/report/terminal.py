"""The terminal report: a line per check as it finishes, then the matrix, the failures with their
clauses, and the verdict."""

from __future__ import annotations

import textwrap

from ..config import redact_url
from ..registry import Level
from ..runner import CheckResult, Outcome, SuiteRun
from .matrix import counts, matrix, verdict

NODE_LOG_LINES = 20  # of a node's log, per failure in the terminal (the report files hold more)
LABELS = {Outcome.PASS: "PASS", Outcome.SKIP: "SKIP", Outcome.DISABLED: "DISABLED", Outcome.FAIL: "FAIL",
          Outcome.ERROR: "ERROR"}


def render_result(result: CheckResult) -> str:
    """One line: outcome, check, duration; why, for a skipped or disabled check."""
    line = f"{LABELS[result.outcome]:<9}{result.check.id} [{result.check.level.value}]"
    line = f"{line:<64} {result.duration:6.2f}s"
    if result.outcome in (Outcome.SKIP, Outcome.DISABLED):
        line += f"  {result.message}"
    return line


def _node_log_lines(log: str, title: str) -> list[str]:
    """The last NODE_LOG_LINES lines of a node's log, under a title (nothing for no log)."""
    if not log:
        return []
    lines = log.splitlines()
    cut = f" (its last {NODE_LOG_LINES} lines)" if len(lines) > NODE_LOG_LINES else ""
    return [f"{title}{cut}:", *("  " + line for line in lines[-NODE_LOG_LINES:])]


def render_header(run: SuiteRun) -> str:
    node = (redact_url(run.url) or "a node") + (" (the bundled node)" if run.bundled else "") + (
        f" (started from image {run.node_image})" if run.node_image else "")
    return f"opspec node conformance: profile {run.profile.version} against {node}"


def render_summary(run: SuiteRun) -> str:
    if run.setup_error:
        return "\n".join([render_header(run), "", verdict(run)])  # the error says all, the node's log too
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
        lines += [textwrap.indent(line, "  ") for line in _node_log_lines(result.node_log, "the node's log meanwhile")]
    lines += ["", verdict(run)]
    return "\n".join(line.rstrip() for line in lines)
