"""The extension hooks (plugin/hookspecs.py), each implemented in a conftest.py as a user would."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.support import write_package

GOOD = "name: good\nrun:\n  container:\n    image: {ref: alpine}\n"


def conftest(pytester: pytest.Pytester, source: str) -> None:
    pytester.makeconftest(textwrap.dedent(source))


def test_collect_package_items_adds_items_after_the_packages_own(pytester: pytest.Pytester) -> None:
    write_package(pytester.path, "ops/good", GOOD, {})
    conftest(pytester, """
        import pytest

        def pytest_opspec_collect_package_items(package):
            def test_has_a_readme():
                assert (package.path / "README.md").exists(), "every op documents itself"
            return [pytest.Function.from_parent(package, name="readme", callobj=test_has_a_readme)]
    """)
    items, _ = pytester.inline_genitems("--opspec", "ops")
    assert [item.nodeid for item in items] == ["ops/good::validate", "ops/good::readme"]
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*every op documents itself*"])


SNAPSHOT_TEST = """
from pytest_opspec.events import Event, EventType, Outcome
from pytest_opspec.executor.result import RunResult


def test_run(op_snapshot):
    events = [Event(type=EventType.OP_STARTED, root_op_id="r", seq=1, call_path=(), timestamp_ns=1, op_id="r",
                    pkg_ref="/pkgs/x"),
              Event(type=EventType.OP_ENDED, root_op_id="r", seq=2, call_path=(), timestamp_ns=2, op_id="r",
                    pkg_ref="/pkgs/x", outcome=Outcome.SUCCEEDED)]
    assert RunResult.from_events("r", events) == op_snapshot
"""


def test_normalize_snapshot_changes_what_is_stored_and_compared(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_snap=SNAPSHOT_TEST)
    conftest(pytester, """
        def pytest_opspec_normalize_snapshot(config, document, result):
            document["checkedBy"] = config.getini("checker")

        def pytest_addoption(parser):
            parser.addini("checker", "who checks")
    """)
    pytester.makeini("[pytest]\nchecker = first\n")
    pytester.runpytest("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    (stored,) = (pytester.path / "__snapshots__").rglob("*.json")
    document = json.loads(stored.read_text())
    assert document["checkedBy"] == "first" and document["outcome"] == "SUCCEEDED"
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nchecker = second\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(failed=1)


CUSTOM_CHECK = """
from pytest_opspec.conformance.registry import Endpoint, Level, make_check


def answers_liveness(ctx):
    assert ctx.liveness().status == 200


def pytest_opspec_conformance_checks(config):
    return [make_check("{id}", answers_liveness, endpoint=Endpoint.LIVENESS, level=Level.SHOULD,
                       clause="our nodes answer /liveness", title="our own liveness check")]
"""


def test_conformance_checks_adds_checks_to_the_suite(pytester: pytest.Pytester) -> None:
    conftest(pytester, CUSTOM_CHECK.replace("{id}", "ours.liveness"))
    items, _ = pytester.inline_genitems("--opspec-conformance=http://127.0.0.1:9", "-p", "no:cacheprovider")
    ids = [item.nodeid for item in items]
    assert "conformance::ours.liveness[SHOULD]" in ids and "conformance::liveness.ok[MUST]" in ids


def test_a_conformance_check_id_that_clashes_is_a_usage_error(pytester: pytest.Pytester) -> None:
    conftest(pytester, CUSTOM_CHECK.replace("{id}", "liveness.ok"))
    result = pytester.runpytest("--opspec-conformance=http://127.0.0.1:9", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pytest_opspec_conformance_checks: conformance check 'liveness.ok' is "
                                 "registered twice*"])


def test_the_hooks_are_documented_in_pytest_s_own_way() -> None:
    from pytest_opspec.plugin import hookspecs

    names = [name for name in vars(hookspecs) if name.startswith("pytest_opspec_")]
    assert names == ["pytest_opspec_make_runtime", "pytest_opspec_normalize_snapshot",
                     "pytest_opspec_collect_package_items", "pytest_opspec_conformance_checks"]
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    for name in names:
        assert getattr(hookspecs, name).__doc__ and f"`{name}(" in readme
