"""JUnit XML: one testcase per check (classname ``conformance.<endpoint>``, e.g. ``conformance.ops.starts``;
name ``<id>[<LEVEL>]``); Skip and Disabled are ``skipped``; the clause is part of every failure's text."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

from ..config import redact_url
from ..runner import Outcome, SuiteRun


def write_junit(run: SuiteRun, path: Path) -> None:
    failures, errors = run.count(Outcome.FAIL), run.count(Outcome.ERROR)
    skipped = run.count(Outcome.SKIP) + run.count(Outcome.DISABLED)
    attributes = {"tests": str(len(run.results)), "failures": str(failures), "errors": str(errors),
                  "skipped": str(skipped), "time": f"{run.duration:.3f}"}
    suites = ElementTree.Element("testsuites", {"name": "opspec-conformance", **attributes})
    suite = ElementTree.SubElement(suites, "testsuite", {"name": f"opspec-conformance {run.profile.version}",
                                                         "timestamp": run.started_at.isoformat(), **attributes})
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (("node", redact_url(run.url)), ("bundled", str(run.bundled).lower()),
                        ("node_image", run.node_image or ""),
                        ("profile", run.profile.version), ("fail_on", run.config.fail_on.value)):
        ElementTree.SubElement(properties, "property", name=name, value=value)
    for result in run.results:
        check = result.check
        group = check.endpoint.value.replace("/", ".").replace(" ", ".")
        case = ElementTree.SubElement(suite, "testcase", classname=f"conformance.{group}", name=check.label,
                                      time=f"{result.duration:.3f}")
        case_properties = ElementTree.SubElement(case, "properties")
        for name, value in (("level", check.level.value), ("clause", str(check.clause))):
            ElementTree.SubElement(case_properties, "property", name=name, value=value)
        first_line = result.message.splitlines()[0] if result.message else ""
        if result.outcome in (Outcome.FAIL, Outcome.ERROR):
            element = ElementTree.SubElement(case, "failure" if result.outcome is Outcome.FAIL else "error",
                                             message=first_line, type=check.level.value)
            element.text = f"clause: {check.clause}\n{result.message}"
            if result.node_log:
                ElementTree.SubElement(case, "system-out").text = f"the node's log meanwhile:\n{result.node_log}"
        elif result.outcome in (Outcome.SKIP, Outcome.DISABLED):
            ElementTree.SubElement(case, "skipped", message=f"{result.outcome.value}: {result.message}")
    if run.node_image:
        ElementTree.SubElement(suite, "system-out").text = f"the node's log (image {run.node_image}):\n{run.node_log}"
    if run.setup_error:
        ElementTree.SubElement(suite, "system-err").text = run.setup_error
    ElementTree.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
