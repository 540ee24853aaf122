"""The one registry: entries in registration order, and a name registered twice is an error."""

from __future__ import annotations

import pytest

from pytest_opspec.cli import COMMANDS
# With the checks: pytester restores sys.modules after each in-process run, and check modules imported
# again there would register their checks a second time in a registry that outlived them.
from pytest_opspec.conformance.checks import all_checks
from pytest_opspec.conformance.registry import REGISTRY
from pytest_opspec.model import CHECKS
from pytest_opspec.registry import DuplicateNameError, Registry


def test_entries_keep_their_order_and_are_looked_up_by_name() -> None:
    registry: Registry[int] = Registry("number")
    registry.add("one", 1)

    @registry.register("two")
    def two() -> int:
        return 2

    assert list(registry) == ["one", "two"] and registry["two"] is two and "one" in registry
    assert registry.values() == [1, two] and len(registry) == 2 and registry.get("three") is None


def test_a_name_registered_twice_is_an_error() -> None:
    registry: Registry[int] = Registry("number")
    registry.add("one", 1)
    with pytest.raises(DuplicateNameError, match="number 'one' is registered twice"):
        registry.add("one", 2)
    assert registry["one"] == 1


def test_checks_conformance_checks_and_commands_use_it() -> None:
    assert all(isinstance(registry, Registry) for registry in (CHECKS, REGISTRY, COMMANDS))
    assert [check.id for check in all_checks()] and len(all_checks()) == len(REGISTRY)
    assert list(COMMANDS) == ["validate", "run", "pkg", "node", "conformance"]
    with pytest.raises(DuplicateNameError):
        CHECKS.register("no-run")(lambda context: [])
