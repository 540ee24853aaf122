"""The repository's own small corpus (tests/data/pkgs): exact problems, by the API and by pytest --opspec."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_opspec.model import OpCache, validate_package
from pytest_opspec.pkgs.discover import find_packages

from tests.support import DATA

PACKAGES = find_packages([DATA / "pkgs"])


def expected_lines(pkg: Path) -> list[str]:
    file = pkg / "expected.txt"
    return file.read_text().splitlines() if file.is_file() else []


def expected_valid(pkg: Path) -> bool:
    return all(": warning: " in line for line in expected_lines(pkg))


@pytest.mark.parametrize("pkg", PACKAGES, ids=[p.relative_to(DATA).as_posix() for p in PACKAGES])
def test_exact_problems(pkg: Path) -> None:
    report = validate_package(pkg, OpCache()).relative_to(pkg)
    assert [problem.format() for problem in report.problems] == expected_lines(pkg)
    assert report.ok is expected_valid(pkg)


def test_same_verdicts_through_pytest(pytester: pytest.Pytester) -> None:
    reprec = pytester.inline_run("--opspec", str(DATA / "pkgs"), "-p", "no:cacheprovider", "-W", "ignore")
    outcomes = {report.nodeid: report.outcome for report in reprec.getreports("pytest_runtest_logreport")
                if report.when == "call"}
    assert len(outcomes) == len(PACKAGES) >= 10
    for pkg in PACKAGES:
        (nodeid,) = [nodeid for nodeid in outcomes if nodeid.endswith(f"{pkg.name}::validate")
                     and pkg.parent.name in nodeid]
        assert outcomes[nodeid] == ("passed" if expected_valid(pkg) else "failed"), nodeid
