"""The summary matrix (endpoint x level) that every report shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..registry import Endpoint, Level
from ..runner import CheckResult, Outcome, SuiteRun


@dataclass
class Cell:
    results: list[CheckResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)

    @property
    def worst(self) -> Outcome | None:
        for outcome in (Outcome.ERROR, Outcome.FAIL, Outcome.SKIP, Outcome.DISABLED, Outcome.PASS):
            if self.count(outcome):
                return outcome
        return None

    def text(self) -> str:
        """``passed/run``, plus what else happened: ``7/9, 1 fail, 1 skip``."""
        if not self.results:
            return "-"
        ran = [r for r in self.results if r.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.ERROR)]
        parts = [f"{self.count(Outcome.PASS)}/{len(ran)}"]
        parts += [f"{self.count(outcome)} {outcome.value}" for outcome in
                  (Outcome.FAIL, Outcome.ERROR, Outcome.SKIP, Outcome.DISABLED) if self.count(outcome)]
        return ", ".join(parts)


def matrix(run: SuiteRun) -> dict[str, dict[Level, Cell]]:
    """Rows: the endpoints (in the seed's order) and ``total``; columns: MUST, SHOULD, MAY."""
    rows: dict[str, dict[Level, Cell]] = {endpoint.value: {level: Cell() for level in Level} for endpoint in Endpoint}
    rows["total"] = {level: Cell() for level in Level}
    for result in run.results:
        rows[result.check.endpoint.value][result.check.level].results.append(result)
        rows["total"][result.check.level].results.append(result)
    return rows


def verdict(run: SuiteRun) -> str:
    if run.setup_error:
        return f"SET-UP ERROR: the node could not be checked: {run.setup_error}"
    failing = run.failing()
    if failing:
        errors = sum(1 for r in failing if r.outcome is Outcome.ERROR)
        failures = len(failing) - errors
        parts = ([f"{failures} failed check{'s' if failures != 1 else ''} at {run.config.fail_on.value} level or "
                  "above"] if failures else []) + ([f"{errors} suite error{'s' if errors != 1 else ''}"]
                                                   if errors else [])
        return f"NOT CONFORMANT: {', '.join(parts)}"
    below = run.count(Outcome.FAIL)
    tail = f" ({below} failure{'s' if below != 1 else ''} below {run.config.fail_on.value})" if below else ""
    return f"CONFORMANT to the {run.profile.title} at {run.config.fail_on.value} level{tail}"


def counts(run: SuiteRun) -> str:
    return ", ".join(f"{run.count(outcome)} {outcome.value}" for outcome in Outcome if run.count(outcome))
