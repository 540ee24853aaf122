"""`opspec conformance`: exit status, report files, configuration precedence, set-up errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from pytest_opspec.cli import main

from tests.support import TEST_IMAGE
from .conftest import NodeStarter
from .test_mutations import listing_modes_without_type_bits


def test_checks_a_node_and_writes_every_report(start_node: NodeStarter, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    node = start_node()
    reports = [tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.html"]
    status = main(["conformance", node.url, "--image", TEST_IMAGE, "--select", "liveness.*", "--select",
                   "pkgs.contents.list", "--report-json", str(reports[0]), "--junit-xml", str(reports[1]),
                   "--report-html", str(reports[2])])
    out = capsys.readouterr().out
    assert status == 0
    assert f"opspec conformance: checking {node.url} against the node API 0.1.5" in out
    assert "PASS     pkgs.contents.list [MUST]" in out
    assert "CONFORMANT to the opspec 0.1.5 node API at MUST level" in out
    assert [path.exists() for path in reports] == [True, True, True]
    document = json.loads(reports[0].read_text())
    assert [check["id"] for check in document["checks"]] == [
        "liveness.ok", "pkgs.contents.list", "liveness.responses-match-spec"]


def test_only_failures_at_fail_on_or_above_make_the_exit_status(start_node: NodeStarter,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    node = start_node(**listing_modes_without_type_bits(monkeypatch))
    arguments = ["conformance", node.url, "--select", "pkgs.contents.list*", "-q"]
    assert main(arguments) == 0
    assert "(1 failure below MUST)" in capsys.readouterr().out
    assert main([*arguments, "--fail-on", "should"]) == 1
    out = capsys.readouterr().out
    assert "FAIL pkgs.contents.list-modes [SHOULD]" in out and "NOT CONFORMANT" in out
    monkeypatch.setenv("OPSPEC_CONFORMANCE_FAIL_ON", "should")
    assert main(arguments) == 1
    assert main([*arguments, "--fail-on", "must"]) == 0  # the flag wins over the env var


def test_without_a_url_it_checks_the_bundled_node(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--select", "liveness.*", "--image", TEST_IMAGE]) == 0
    out = capsys.readouterr().out
    assert "opspec conformance: checking the bundled node" in out
    assert "(the bundled node)" in out


def test_a_node_that_does_not_answer_is_a_set_up_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["conformance", f"http://127.0.0.1:{port}", "--select", "liveness.*", "--timeout", "1"]) == 3
    out = capsys.readouterr().out
    assert f"SET-UP ERROR: the node could not be checked: no node answers GET /liveness at http://127.0.0.1:{port}" \
        in out
    assert "FAIL" not in out and "ERROR " not in out


def test_the_suites_image_missing_on_the_nodes_engine_is_one_set_up_error(
        start_node: NodeStarter, capsys: pytest.CaptureFixture[str]) -> None:
    node = start_node()
    image = "opspec-test/no-such-image:1"
    assert main(["conformance", node.url, "--image", image, "--select", "ops.*", "-q"]) == 3
    out = capsys.readouterr().out
    assert out.count(f"the suite's image {image} is not on the node's engine") == 1
    assert "ended FAILED" in out and "--image" in out
    assert "\nFAIL" not in out and "checks in" not in out  # no check judged the node


@pytest.mark.parametrize(("arguments", "message"), [
    (["--timeout", "soon"], "--timeout: 'soon' is not a number of seconds"),
    (["localhost:42224"], "URL: 'localhost:42224' is not an http:// or https:// URL"),
    (["--profile", "9.9.9"], "--profile: unknown profile '9.9.9'"),
])
def test_bad_options_are_usage_errors(arguments: list[str], message: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["conformance", *arguments])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_list_names_every_check_with_its_level_and_clause(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--list", "--select", "ops.kills.*", "--disable", "ops.kills.containers-*"]) == 0
    out = capsys.readouterr().out
    assert "ops.kills.kill-running [MUST]\n" in out
    assert "ops.kills.containers-removed [SHOULD] (disabled)\n" in out
    assert '  clause: /ops/kills post: "Kills an op"' in out
    assert "liveness.ok" not in out
