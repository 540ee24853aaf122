"""`pytest --opspec-conformance [URL]`: every selected check is a real ``pytest.Function`` item
(``conformance::events.stream.since-filter[MUST]``), run in the suite's order against one shared
context. Skip and Disabled are pytest skips; a failure below ``--opspec-conformance-fail-on`` is an
xfail; the summary matrix is printed at the end and the report files are written as configured.
plugin/hooks.py registers this plugin (``make_plugin``); the options come from pytest_opspec/options.py.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import pytest

from ..registry import DuplicateNameError
from .checks import all_checks
from .config import Config
from .registry import Check
from .runner import EXIT_SETUP_ERROR, CheckResult, Outcome, SetupError, Suite, SuiteRun, selected_checks


class ConformanceFailed(Exception):
    """A check failed (or the suite erred); rendered without a traceback."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result

    def render(self) -> str:
        check = self.result.check
        kind = "FAIL" if self.result.outcome is Outcome.FAIL else "ERROR (the suite itself failed)"
        log = f"\nthe node's log meanwhile:\n{self.result.node_log}" if self.result.node_log else ""
        return f"{kind} {check.label}: {check.title}\nclause: {check.clause}\n{self.result.message}{log}"


class ConformanceItem(pytest.Function):
    check: Check

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ConformanceFailed):
            return excinfo.value.render()
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int | None, str]:
        # Not the item's name: pytest would show the id's dots as "::".
        return "conformance", None, f"{self.check.id} [{self.check.level.value}]"


class ConformanceCollector(pytest.Collector):
    plugin: ConformancePlugin

    def collect(self) -> Iterator[pytest.Item]:
        for check, disabled in selected_checks(self.plugin.config, self.plugin.extra_checks):
            item = ConformanceItem.from_parent(self, name=check.label, callobj=self.plugin.runner(check, disabled))
            item.check = check
            yield item


class ConformancePlugin:
    def __init__(self, config: Config, extra_checks: Sequence[Check] = ()) -> None:
        self.config = config
        self.extra_checks = tuple(extra_checks)  # from pytest_opspec_conformance_checks
        self.suite = Suite(config)
        self.run = SuiteRun(config, config.url or "", self.suite.bundled, self.suite.profile)
        self._written: list[str] = []

    def runner(self, check: Check, disabled: str | None) -> Any:
        def run() -> None:
            try:
                result = self.suite.check(check, disabled)
            except SetupError as error:
                # Not a verdict on any check: said once, and the session ends with its own status.
                pytest.exit(f"opspec conformance: set-up error: the node could not be checked: {error}",
                            returncode=EXIT_SETUP_ERROR)
            self.run.results.append(result)
            if result.outcome is Outcome.SKIP:
                pytest.skip(f"skip: {result.message}")
            if result.outcome is Outcome.DISABLED:
                pytest.skip(f"disabled: {result.message}")
            if result.outcome is Outcome.FAIL and check.level.rank > self.config.fail_on.rank:
                pytest.xfail(f"{check.level.value} check failed (below --opspec-conformance-fail-on "
                             f"{self.config.fail_on.value.lower()}): {result.message}")
            if result.outcome in (Outcome.FAIL, Outcome.ERROR):
                raise ConformanceFailed(result)

        run.__doc__ = f"{check.title} [{check.level.value}]: {check.clause}"
        return run

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        collector = ConformanceCollector.from_parent(session, name="conformance", nodeid="conformance")
        collector.plugin = self
        # Announced as pytest's own collection would, so reporters count and list the items.
        session.ihook.pytest_collectstart(collector=collector)
        collected: list[pytest.Item | pytest.Collector] = list(collector.collect())
        session.ihook.pytest_collectreport(report=pytest.CollectReport(collector.nodeid, "passed", None, collected))
        for item in collected:
            if isinstance(item, pytest.Item):
                session.ihook.pytest_itemcollected(item=item)
                items.append(item)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from .report import write_reports

        self.suite.close()
        self.suite.record_node(self.run)
        self.run.url = self.suite.url
        self.run.setup_error = self.suite.setup_error
        self.run.duration = sum(result.duration for result in self.run.results)
        self._written = write_reports(self.run)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from .report import render_summary

        if not self.run.results:
            return
        terminalreporter.write_sep("=", "opspec node conformance")
        for line in render_summary(self.run).splitlines():
            terminalreporter.write_line(line)
        for path in self._written:
            terminalreporter.write_line(f"wrote {path}")


def make_plugin(values: dict[str, Any], extra_checks: Sequence[Check]) -> ConformancePlugin:
    """The plugin for the parsed conformance options and the checks of ``pytest_opspec_conformance_checks``."""
    try:
        all_checks(extra_checks)
    except DuplicateNameError as error:
        raise pytest.UsageError(f"pytest_opspec_conformance_checks: {error}") from None
    return ConformancePlugin(Config.from_values(values), extra_checks)
