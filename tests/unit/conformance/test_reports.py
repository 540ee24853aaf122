"""The reports, rendered from a made-up run with every outcome."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from pytest_opspec.conformance.config import Config
from pytest_opspec.conformance.profiles import PROFILES
from pytest_opspec.conformance.checks import all_checks
from pytest_opspec.conformance.registry import REFERENCE_ONLY_NOTE, REGISTRY, Level
from pytest_opspec.conformance.report import render_summary, write_reports
from pytest_opspec.conformance.report.html import render_html
from pytest_opspec.conformance.report.result import to_json
from pytest_opspec.conformance.report.terminal import render_result
from pytest_opspec.conformance.runner import EXIT_SETUP_ERROR, CheckResult, Outcome, SuiteRun

OUTCOMES = {
    "ops.kills.kill-running": (Outcome.FAIL, "POST /ops/kills -> 200: expected 204"),
    "pkgs.contents.list-modes": (Outcome.FAIL, "/data is a directory but its mode 493 lacks the directory bit"),
    "pkgs.contents.head-file": (Outcome.SKIP, "the node does not support HEAD"),
    "ops.kills.containers-stopped": (Outcome.DISABLED, "observing containers is turned off (--engine none)"),
    "events.stream.since-filter": (Outcome.ERROR, "KeyError: 'x'"),
}


def made_up_run(tmp_path: Path, **config: object) -> SuiteRun:
    settings = Config(url="http://user:pw@127.0.0.1:42224", junit_xml=tmp_path / "r.xml",
                      report_json=tmp_path / "r.json", report_html=tmp_path / "out" / "r.html", **config)  # type: ignore[arg-type]
    run = SuiteRun(settings, settings.url or "", False, PROFILES["0.1.5"], duration=3.25)
    for check in all_checks():
        outcome, message = OUTCOMES.get(check.id, (Outcome.PASS, ""))
        run.results.append(CheckResult(check, outcome, message, 0.01))
    return run


def test_the_terminal_summary_has_the_matrix_the_failures_and_the_verdict(tmp_path: Path) -> None:
    text = render_summary(made_up_run(tmp_path))
    lines = text.splitlines()
    assert lines[0] == "opspec node conformance: profile 0.1.5 against http://user:***@127.0.0.1:42224"
    assert lines[1] == f"{len(REGISTRY)} checks in 3.2 s: {len(REGISTRY) - 5} pass, 1 skip, 1 disabled, 2 fail, 1 error"
    assert re.search(r"^ops/kills +5/6, 1 fail, 1 disabled +2/2 +- *$", text, re.MULTILINE)
    assert re.search(r"^pkgs contents +10/10, 1 skip +3/4, 1 fail +- *$", text, re.MULTILINE)
    assert "FAIL ops.kills.kill-running [MUST]: killing a running op answers 204 and the op ends KILLED" in lines
    assert '  clause: /ops/kills post: "Kills an op"; responses \'204\': "No Content"; OpEndedEvent outcome: KILLED' \
        in lines
    assert "  POST /ops/kills -> 200: expected 204" in lines
    assert "ERROR events.stream.since-filter [MUST]: since replays exactly the events at or after the instant " \
           "(inclusive)" in lines
    assert lines[-1] == "NOT CONFORMANT: 1 failed check at MUST level or above, 1 suite error"


def test_the_exit_status_follows_fail_on(tmp_path: Path) -> None:
    run = made_up_run(tmp_path)
    assert run.exit_status == 1
    run.results = [r for r in run.results if r.outcome is not Outcome.ERROR and r.check.id != "ops.kills.kill-running"]
    assert run.exit_status == 0  # only a SHOULD failure is left
    assert render_summary(run).endswith("CONFORMANT to the opspec 0.1.5 node API at MUST level (1 failure below "
                                        "MUST)")
    assert made_up_run(tmp_path, fail_on=Level.SHOULD).failing()[0].check.id == "ops.kills.kill-running"


def test_every_report_file_is_written(tmp_path: Path) -> None:
    written = write_reports(made_up_run(tmp_path))
    assert written == [str(tmp_path / "r.xml"), str(tmp_path / "r.json"), str(tmp_path / "out" / "r.html")]
    for path in written:
        assert "pw@" not in Path(path).read_text(encoding="utf-8")


def test_the_junit_xml_has_a_testcase_per_check(tmp_path: Path) -> None:
    write_reports(made_up_run(tmp_path))
    suite = ElementTree.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        str(len(REGISTRY)), "2", "1", "2")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    failure = cases["ops.kills.kill-running[MUST]"].find("failure")
    assert failure is not None and failure.get("message") == "POST /ops/kills -> 200: expected 204"
    assert (failure.text or "").startswith('clause: /ops/kills post: "Kills an op"')
    assert cases["ops.kills.kill-running[MUST]"].get("classname") == "conformance.ops.kills"
    skipped = cases["ops.kills.containers-stopped[MUST]"].find("skipped")
    assert skipped is not None and skipped.get("message", "").startswith("disabled: ")


def test_the_json_result_has_config_summary_and_checks(tmp_path: Path) -> None:
    document = to_json(made_up_run(tmp_path))
    assert document["node"] == {"url": "http://user:***@127.0.0.1:42224", "bundled": False, "image": None,
                                "log": None}
    assert document["config"]["url"] == "http://user:***@127.0.0.1:42224"
    assert document["exit_status"] == 1 and document["summary"]["fail"] == 2
    assert document["summary"]["matrix"]["ops/kills"]["MUST"]["fail"] == 1
    kill = next(check for check in document["checks"] if check["id"] == "ops.kills.kill-running")
    assert kill["outcome"] == "fail" and kill["level"] == "MUST" and kill["clause"].startswith("/ops/kills post")
    json.dumps(document)


def test_the_html_report_is_self_contained(tmp_path: Path) -> None:
    page = render_html(made_up_run(tmp_path))
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"<(script|link|img)\b|\bsrc=|\bhref=|@import|url\(", page)
    assert "NOT CONFORMANT" in page and "POST /ops/kills -&gt; 200: expected 204" in page


@pytest.mark.parametrize("outcome", list(Outcome))
def test_the_html_report_shows_every_outcome(tmp_path: Path, outcome: Outcome) -> None:
    assert f'class="badge {outcome.value}"' in render_html(made_up_run(tmp_path))


def test_a_progress_line_per_check_says_why_it_skipped(tmp_path: Path) -> None:
    lines = {result.check.id: render_result(result) for result in made_up_run(tmp_path).results}
    assert lines["liveness.ok"] == "PASS     liveness.ok [MUST]".ljust(64) + "   0.01s"
    assert lines["pkgs.contents.head-file"] == "SKIP     pkgs.contents.head-file [MUST]".ljust(64) + \
        "   0.01s  the node does not support HEAD"


def test_a_check_only_the_reference_speaks_for_says_why_it_is_no_must(tmp_path: Path) -> None:
    run = made_up_run(tmp_path)
    keys = next(result for result in run.results if result.check.id == "pkgs.contents.list-keys")
    keys.outcome, keys.message = Outcome.FAIL, "entries use the keys Mode, Path, Size"
    text = render_summary(run)
    assert "FAIL pkgs.contents.list-keys [SHOULD]: listing entries spell their keys as the seed does" in text
    assert f"[{REFERENCE_ONLY_NOTE}]" in text
    assert next(check for check in to_json(run)["checks"] if check["id"] == "pkgs.contents.list-keys")[
        "reference_only"] is True


def test_a_set_up_error_is_said_once_with_its_own_exit_status(tmp_path: Path) -> None:
    run = made_up_run(tmp_path, node_image="example/node:1")
    run.results, run.setup_error = [], "the node in container c (example/node:1) never answered GET /liveness"
    run.node_image = "example/node:1"
    text = render_summary(run)
    assert run.exit_status == EXIT_SETUP_ERROR == 3
    assert text.splitlines()[-1] == ("SET-UP ERROR: the node could not be checked: the node in container c "
                                     "(example/node:1) never answered GET /liveness")
    assert "endpoint" not in text  # no matrix: nothing was judged
    assert to_json(run)["exit_status"] == 3


def test_the_node_log_goes_with_failures_and_into_every_report(tmp_path: Path) -> None:
    run = made_up_run(tmp_path, node_image="example/node:1")
    run.node_image, run.node_log = "example/node:1", "node started\nnode stopping"
    kill = next(result for result in run.results if result.check.id == "ops.kills.kill-running")
    kill.node_log = "\n".join(f"kill line {n}" for n in range(30))
    lines = render_summary(run).splitlines()
    at = lines.index("  the node's log meanwhile (its last 20 lines):")
    assert lines[at + 1:at + 21] == [f"    kill line {n}" for n in range(10, 30)]
    write_reports(run)
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["node"]["image"] == "example/node:1" and document["node"]["log"] == run.node_log
    assert next(c for c in document["checks"] if c["id"] == "ops.kills.kill-running")["node_log"] == kill.node_log
    suite = ElementTree.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None
    case = next(c for c in suite.iter("testcase") if c.get("name") == "ops.kills.kill-running[MUST]")
    assert "kill line 29" in (case.findtext("system-out") or "")
    assert "node stopping" in (suite.findtext("system-out") or "")
    page = (tmp_path / "out" / "r.html").read_text()
    assert "kill line 29" in page and "node stopping" in page and "started from image example/node:1" in page
