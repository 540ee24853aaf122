"""A self-contained HTML report: inline CSS, no scripts, no external assets."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from ..config import redact_url
from ..registry import Level
from ..runner import Outcome, SuiteRun
from .matrix import counts, matrix, verdict

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #1d1d1f; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
.meta { color: #555; margin-top: 0; }
.verdict { font-weight: 600; padding: .6em .9em; border-radius: 6px; }
.verdict.ok { background: #e3f6e8; } .verdict.bad { background: #fde8e8; }
table { border-collapse: collapse; margin: 1em 0; width: 100%; }
th, td { border: 1px solid #ddd; padding: .35em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f6; }
td.pass { background: #eef9f1; } td.fail, td.error { background: #fdecec; }
td.skip, td.disabled { background: #f5f5f5; color: #555; }
.badge { display: inline-block; min-width: 5.5em; text-align: center; border-radius: 4px; font-weight: 600;
         font-size: .85em; padding: .1em .4em; color: #fff; }
.badge.pass { background: #2f8f46; } .badge.fail { background: #c62828; } .badge.error { background: #7b1fa2; }
.badge.skip { background: #8a8a8a; } .badge.disabled { background: #b0b0b0; }
pre { white-space: pre-wrap; margin: .3em 0 0; font-size: .9em; }
.clause { color: #444; font-style: italic; }
details summary { cursor: pointer; }
"""


def _matrix_table(run: SuiteRun) -> str:
    rows = []
    for name, row in matrix(run).items():
        cells = "".join(f'<td class="{_css_class(row[level].worst)}">{escape(row[level].text())}</td>'
                        for level in Level)
        rows.append(f"<tr><th>{escape(name)}</th>{cells}</tr>")
    head = "".join(f"<th>{level.value}</th>" for level in Level)
    return f"<table><tr><th>endpoint</th>{head}</tr>{''.join(rows)}</table>"


def _css_class(outcome: Outcome | None) -> str:
    return outcome.value if outcome is not None else ""


def _checks_table(run: SuiteRun) -> str:
    rows = []
    for result in run.results:
        check = result.check
        message = f"<pre>{escape(result.message)}</pre>" if result.message else ""
        if result.node_log:
            message += (f"<details><summary>the node's log meanwhile</summary><pre>{escape(result.node_log)}</pre>"
                        "</details>")
        rows.append(
            f'<tr id="{escape(check.id)}"><td><span class="badge {result.outcome.value}">'
            f"{result.outcome.value.upper()}</span></td><td><code>{escape(check.id)}</code></td>"
            f"<td>{check.level.value}</td><td>{escape(check.endpoint.value)}</td>"
            f"<td>{escape(check.title)}<div class=\"clause\">{escape(str(check.clause))}</div>{message}</td>"
            f"<td>{result.duration:.2f}&nbsp;s</td></tr>")
    return ("<table><tr><th>outcome</th><th>check</th><th>level</th><th>endpoint</th><th>what and clause</th>"
            f"<th>time</th></tr>{''.join(rows)}</table>")


def _node_log(run: SuiteRun) -> str:
    if not run.node_image:
        return ""
    return (f"<details><summary>The node's log (image {escape(run.node_image)}, its last lines)</summary>"
            f"<pre>{escape(run.node_log or '(empty)')}</pre></details>\n")


def render_html(run: SuiteRun) -> str:
    node = escape(redact_url(run.url)) + (" (the bundled node)" if run.bundled else "") + (
        f" (started from image {escape(run.node_image)})" if run.node_image else "")
    ok = not run.failing() and not run.setup_error
    config = escape(json.dumps(run.config.to_json(), indent=2))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>opspec node conformance: {escape(run.profile.version)}</title>
<style>{STYLE}</style></head><body>
<h1>opspec node conformance</h1>
<p class="meta">profile {escape(run.profile.version)} ({escape(run.profile.title)}) against {node};
started {escape(run.started_at.strftime("%Y-%m-%d %H:%M:%S UTC"))}, {run.duration:.1f} s;
{len(run.results)} checks: {escape(counts(run) or "none ran")}</p>
<p class="verdict {'ok' if ok else 'bad'}">{escape(verdict(run))}</p>
<h2>Summary</h2>
{_matrix_table(run)}
<h2>Checks</h2>
{_checks_table(run)}
{_node_log(run)}<details><summary>Configuration (credentials redacted)</summary><pre>{config}</pre></details>
</body></html>
"""


def write_html(run: SuiteRun, path: Path) -> None:
    path.write_text(render_html(run), encoding="utf-8")
