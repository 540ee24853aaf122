"""The suite's reports: the terminal summary, JUnit XML, the JSON result file and an HTML page."""

from __future__ import annotations

from ..runner import SuiteRun
from .html import write_html
from .junit import write_junit
from .result import write_json
from .terminal import render_summary

__all__ = ["render_summary", "write_html", "write_json", "write_junit", "write_reports"]


def write_reports(run: SuiteRun) -> list[str]:
    """Write every report file the configuration asks for; returns their paths."""
    written = []
    for path, write in ((run.config.junit_xml, write_junit), (run.config.report_json, write_json),
                        (run.config.report_html, write_html)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            write(run, path)
            written.append(str(path))
    return written
