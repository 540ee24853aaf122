"""Cancel scopes: kills propagate down, are remembered, and stop registered containers."""

from __future__ import annotations

import pytest

from pytest_opspec.executor.cancel import CancelReason, CancelScope, Killed


def test_cancel_propagates_to_children_and_stops_what_is_registered() -> None:
    root = CancelScope()
    block = root.child()
    stopped: list[str] = []
    root.register("a", lambda: stopped.append("a"))
    block.register("b", lambda: stopped.append("b"))
    block.unregister("b")
    block.register("c", lambda: stopped.append("c"))
    root.cancel(CancelReason.KILLED)
    assert sorted(stopped) == ["a", "c"]
    assert block.reason is CancelReason.KILLED
    with pytest.raises(Killed):
        block.check()


def test_a_cancelled_block_does_not_cancel_its_parent() -> None:
    root = CancelScope()
    block = root.child()
    block.cancel(CancelReason.SIBLING_FAILED)
    root.check()  # does not raise
    assert block.cancelled and not root.cancelled


def test_a_kill_is_remembered_for_later_children_and_registrations() -> None:
    root = CancelScope()
    root.cancel(CancelReason.KILLED)
    late = root.child()
    assert late.reason is CancelReason.KILLED
    stopped: list[str] = []
    late.register("x", lambda: stopped.append("x"))
    assert stopped == ["x"]


def test_the_first_reason_wins() -> None:
    scope = CancelScope()
    scope.cancel(CancelReason.SIBLING_FAILED)
    scope.cancel(CancelReason.KILLED)
    assert scope.reason is CancelReason.SIBLING_FAILED
