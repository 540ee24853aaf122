"""Matchers for expected values that cannot be written literally (a version, a generated id, some text).

In scenario files an expected output (or any part of one) may be a one-key mapping:
``{"$match": REGEX}`` (the whole text matches), ``{"$contains": TEXT}`` (text containing TEXT, a list
containing TEXT as an item, or a mapping with the key TEXT) or ``{"$any": true}`` (anything at all).
In Python the same matchers are objects that compare with ``==``, so they work inside any expected
structure: ``assert result.outputs == {"version": match(r"\\d+\\.\\d+")}``; ``snapshot_matcher`` makes
them usable as syrupy's ``matcher=``.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

MATCHER_KEYS = ("$match", "$contains", "$any")


class Matcher:
    """An expected value that accepts a set of actual values; ``==`` with an actual value tests it."""

    def matches(self, actual: Any) -> bool:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return self.matches(other)

    def __ne__(self, other: object) -> bool:
        return not self.matches(other)

    __hash__ = None  # type: ignore[assignment]  # equal to many values: not hashable


class Match(Matcher):
    """Text the regular expression matches in full."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._regex = re.compile(pattern)

    def matches(self, actual: Any) -> bool:
        return isinstance(actual, str) and self._regex.fullmatch(actual) is not None

    def __repr__(self) -> str:
        return f"match({self.pattern!r})"


class Contains(Matcher):
    """Text containing ``part``, a list with ``part`` as an item, or a mapping with the key ``part``."""

    def __init__(self, part: Any) -> None:
        self.part = part

    def matches(self, actual: Any) -> bool:
        if isinstance(actual, str):
            return isinstance(self.part, str) and self.part in actual
        if isinstance(actual, (list, tuple, dict)):
            return self.part in actual
        return False

    def __repr__(self) -> str:
        return f"contains({self.part!r})"


class Anything(Matcher):
    """Any value (the output must still exist)."""

    def matches(self, actual: Any) -> bool:
        return True

    def __repr__(self) -> str:
        return "anything()"


def match(pattern: str) -> Match:
    """A text the regular expression ``pattern`` matches in full (``re.fullmatch``)."""
    return Match(pattern)


def contains(part: Any) -> Contains:
    """A text containing ``part`` (or a list with the item / a mapping with the key ``part``)."""
    return Contains(part)


def anything() -> Anything:
    """Any value at all."""
    return Anything()


class MatcherDocumentError(ValueError):
    """A ``{"$...": ...}`` mapping that is no valid matcher; the message says what to write."""


def matcher_from_document(document: Any) -> Matcher | None:
    """The matcher a scenario file writes as ``{"$match": ...}`` and the like; None for any other value.

    Raises MatcherDocumentError for a ``$`` key that is no matcher or a matcher with a wrong argument.
    """
    if not (isinstance(document, dict) and len(document) == 1):
        return None
    key, argument = next(iter(document.items()))
    if not (isinstance(key, str) and key.startswith("$")):
        return None
    if key == "$match":
        if not isinstance(argument, str):
            raise MatcherDocumentError(f"$match takes a regular expression (text), not {argument!r}")
        try:
            return Match(argument)
        except re.error as error:
            raise MatcherDocumentError(f"$match: invalid regular expression {argument!r}: {error}") from None
    if key == "$contains":
        return Contains(argument)
    if key == "$any":
        if argument is not True:
            raise MatcherDocumentError("write {$any: true} to accept any value")
        return Anything()
    raise MatcherDocumentError(f"unknown matcher {key!r}; expected one of {', '.join(MATCHER_KEYS)}")


def snapshot_matcher(expected: Mapping[str, Matcher]) -> Callable[..., Any]:
    """A syrupy ``matcher=``: at each dotted path (``"outputs.version"``), a value the matcher accepts is
    stored as the matcher's description, so the snapshot holds ``match('\\\\d+')`` instead of a value that
    changes from run to run; a value it rejects is stored as it is, so the snapshot diff shows it.

    For op runs (``op_snapshot``) an output is a typed value (``{"string": "1.2"}``): the matcher tests
    the value inside.
    """
    def matcher(*, data: Any, path: Any) -> Any:
        where = ".".join(str(part) for part, _ in path)
        wanted = expected.get(where)
        if wanted is None:
            return data
        if isinstance(data, dict) and len(data) == 1:
            (kind, inner), = data.items()
            if wanted.matches(inner):
                return {kind: repr(wanted)}
        return repr(wanted) if wanted.matches(data) else data

    return matcher
