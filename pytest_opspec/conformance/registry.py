"""The check registry: every conformance check is a small function registered with ``@check``.

A ``Check`` knows what it tests (the endpoint, the clause it quotes, its level) and which API
profiles it belongs to. Check functions take a ``Context`` and raise ``CheckFailed`` (or fail an
``assert``) when the node does not conform, ``CheckSkipped`` when the node declares that it does not
support an optional feature, and let anything else escape when the suite itself broke.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, Callable

from ..registry import Registry

if TYPE_CHECKING:
    from .context import Context


class Level(StrEnum):
    """How binding the tested clause is (RFC 2119 words, as the seed uses them)."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"

    @property
    def rank(self) -> int:
        return {Level.MUST: 0, Level.SHOULD: 1, Level.MAY: 2}[self]


class Endpoint(StrEnum):
    """The node API's endpoints, as the seed's paths group them; the matrix rows, in this order."""

    LIVENESS = "liveness"
    OPS_STARTS = "ops/starts"
    OPS_KILLS = "ops/kills"
    EVENTS_STREAM = "events/stream"
    PKGS_CONTENTS = "pkgs contents"


class Phase(IntEnum):
    """When a check runs: negative fuzzing after the functional checks (it may disturb a weak node),
    and last the checks that judge what every other check received (responses, event messages)."""

    NORMAL = 0
    FUZZ = 1
    LAST = 2


REFERENCE_ONLY_NOTE = "not a MUST: the seed does not require it, only the reference's behaviour speaks for it"


@dataclass(frozen=True)
class Clause:
    """What a check tests: the seed's words, quoted; ``source`` names another source when the seed is
    silent (e.g. ``SEMANTICS §8``: how the reference behaves) or defers to an RFC.

    ``reference_only``: the seed does not require what the check tests; only the reference's behaviour
    (SEMANTICS.md) speaks for it. Such a check is SHOULD at most, and its reports say why.
    """

    text: str
    source: str = "seed"
    reference_only: bool = False

    def __str__(self) -> str:
        text = self.text if self.source == "seed" else f"{self.text} ({self.source})"
        return f"{text} [{REFERENCE_ONLY_NOTE}]" if self.reference_only else text


class CheckFailed(AssertionError):
    """The node does not conform; the message says what was expected and what the node did."""


class CheckSkipped(Exception):
    """The node declares that it does not support what the check tests (an optional feature)."""


class CheckDisabled(Exception):
    """The configuration turns the check off (e.g. no container engine to observe)."""


CheckFunction = Callable[["Context"], None]


@dataclass(frozen=True)
class Check:
    id: str  # e.g. events.stream.since-filter
    endpoint: Endpoint
    title: str
    clause: Clause
    level: Level
    function: CheckFunction
    profiles: tuple[str, ...]
    phase: Phase = Phase.NORMAL

    @property
    def label(self) -> str:
        return f"{self.id}[{self.level.value}]"


REGISTRY: Registry[Check] = Registry("conformance check")


def make_check(
    id: str,
    function: CheckFunction,
    *,
    endpoint: Endpoint,
    level: Level,
    clause: str | Clause,
    title: str,
    profiles: tuple[str, ...] = ("0.1.5",),
    phase: Phase = Phase.NORMAL,
) -> Check:
    """A check, not registered: what ``pytest_opspec_conformance_checks`` implementations return."""
    return Check(id, endpoint, title, _tested_clause(id, clause, level), level, function, profiles, phase)


def _tested_clause(id: str, clause: str | Clause, level: Level) -> Clause:
    tested = clause if isinstance(clause, Clause) else Clause(clause)
    if tested.reference_only and level is Level.MUST:
        raise ValueError(f"check {id} is MUST, but only the reference's behaviour speaks for it")
    return tested


def check(id: str, **fields: Any) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as check ``id``; ``fields`` are those of ``make_check``."""
    _tested_clause(id, fields["clause"], fields["level"])  # a wrong declaration fails where it is written

    def register(function: CheckFunction) -> CheckFunction:
        REGISTRY.add(id, make_check(id, function, **fields))
        return function

    return register
