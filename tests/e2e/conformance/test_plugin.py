"""`pytest --opspec-conformance [URL]`: checks as pytest items, outcomes, reports and settings."""

from __future__ import annotations

import json

import pytest

from pytest_opspec.conformance.registry import REGISTRY

from tests.support import TEST_IMAGE
from .conftest import NodeStarter
from .test_mutations import listing_modes_without_type_bits, range_ignored


@pytest.fixture
def url(start_node: NodeStarter) -> str:
    return start_node().url


def test_every_check_is_a_function_item_named_by_id_and_level(pytester: pytest.Pytester, url: str) -> None:
    items, _ = pytester.inline_genitems(f"--opspec-conformance={url}")
    assert len(items) == len(REGISTRY)
    assert all(isinstance(item, pytest.Function) for item in items)
    assert items[0].nodeid == "conformance::liveness.ok[MUST]"
    assert "conformance::events.stream.since-filter[MUST]" in [item.nodeid for item in items]


def test_checks_pass_as_tests_and_the_matrix_is_printed(pytester: pytest.Pytester, url: str) -> None:
    result = pytester.runpytest(f"--opspec-conformance={url}", f"--opspec-conformance-image={TEST_IMAGE}",
                                "-k", "liveness or pkgs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2 + 15)
    result.stdout.fnmatch_lines(["*= opspec node conformance =*", f"*profile 0.1.5 against {url}",
                                 "liveness*2/2*", "CONFORMANT to the opspec 0.1.5 node API at MUST level"])


def test_failures_show_their_clause_and_below_fail_on_they_are_xfail(
        pytester: pytest.Pytester, start_node: NodeStarter, monkeypatch: pytest.MonkeyPatch) -> None:
    range_ignored(monkeypatch)
    listing_modes_without_type_bits(monkeypatch)
    url = start_node().url
    result = pytester.runpytest(f"--opspec-conformance={url}", "-k", "range or list-modes", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2, xfailed=2, passed=1)
    result.stdout.fnmatch_lines([
        "*_ pkgs.contents.range-single [[]MUST[]] _*",
        "FAIL pkgs.contents.range-single[[]MUST[]]: a single byte range is a 206 with exactly those bytes*",
        "clause: '/pkgs/{ref}/contents/{path}' get: \"Gets pkg content at path\"; parameters: Range*",
        "Range: bytes=10-19: GET /pkgs/*/contents/%2Fdata%2Fblob.bin -> 200, expected 206",
    ])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_disabled_checks_are_skips_and_reports_are_written(pytester: pytest.Pytester, url: str) -> None:
    report = pytester.path / "conformance.json"
    result = pytester.runpytest(f"--opspec-conformance={url}", "-k", "liveness or pkgs.contents.list",
                                "--opspec-conformance-disable", "pkgs.contents.list-modes",
                                f"--opspec-conformance-report-json={report}", "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, skipped=1)
    result.stdout.fnmatch_lines([f"wrote {report}",
                                 "SKIPPED * disabled: turned off by --disable pkgs.contents.list-modes"])
    document = json.loads(report.read_text())
    assert [(check["id"], check["outcome"]) for check in document["checks"]] == [
        ("liveness.ok", "pass"), ("pkgs.contents.list", "pass"), ("pkgs.contents.list-keys", "pass"),
        ("pkgs.contents.list-modes", "disabled"), ("liveness.responses-match-spec", "pass")]


def test_settings_come_from_the_flag_then_env_then_ini(pytester: pytest.Pytester, url: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\nopspec_conformance_select =\n    pkgs.contents.list\n    liveness.ok\n")
    items, _ = pytester.inline_genitems(f"--opspec-conformance={url}")
    assert [item.name for item in items] == ["liveness.ok[MUST]", "pkgs.contents.list[MUST]"]
    monkeypatch.setenv("OPSPEC_CONFORMANCE_SELECT", "ops.kills.unknown-id,liveness.ok")
    items, _ = pytester.inline_genitems(f"--opspec-conformance={url}")
    assert [item.name for item in items] == ["liveness.ok[MUST]", "ops.kills.unknown-id[MUST]"]
    items, _ = pytester.inline_genitems(f"--opspec-conformance={url}", "--opspec-conformance-select=liveness.ok")
    assert [item.name for item in items] == ["liveness.ok[MUST]"]


def test_the_url_may_come_from_the_env_var(pytester: pytest.Pytester, url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSPEC_CONFORMANCE_URL", url)
    result = pytester.runpytest("--opspec-conformance", "-k", "liveness.ok", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*profile 0.1.5 against {url}"])


def test_a_bad_setting_is_a_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSPEC_CONFORMANCE_TIMEOUT", "never")
    result = pytester.runpytest("--opspec-conformance=http://127.0.0.1:1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*env OPSPEC_CONFORMANCE_TIMEOUT: 'never' is not a number of seconds*"])


def test_the_suite_runs_beside_ordinary_tests_only_when_they_are_named(pytester: pytest.Pytester, url: str) -> None:
    pytester.makepyfile(test_ordinary="def test_ordinary():\n    pass\n")
    suite = [f"--opspec-conformance={url}", "--opspec-conformance-select=liveness.ok"]
    items, _ = pytester.inline_genitems(*suite)
    assert [item.nodeid for item in items] == ["conformance::liveness.ok[MUST]"]
    items, _ = pytester.inline_genitems("test_ordinary.py", *suite)
    assert [item.nodeid for item in items] == ["test_ordinary.py::test_ordinary", "conformance::liveness.ok[MUST]"]
    items, _ = pytester.inline_genitems()
    assert [item.nodeid for item in items] == ["test_ordinary.py::test_ordinary"]


def test_xdist_is_refused(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--opspec-conformance", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--opspec-conformance: the checks share one node and one session*"])
