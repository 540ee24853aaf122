"""Matchers: {"$match"}, {"$contains"}, {"$any"} in scenario files; match/contains/anything in Python."""

from __future__ import annotations

import pytest

from pytest_opspec.matchers import (MatcherDocumentError, anything, contains, match, matcher_from_document,
                                    snapshot_matcher)


def test_python_matchers_compare_with_eq_inside_any_structure() -> None:
    outputs = {"version": "1.2.3", "log": "build ok\nall done", "items": ["a", "b"], "id": "x9"}
    assert outputs == {"version": match(r"\d+\.\d+\.\d+"), "log": contains("all done"), "items": contains("b"),
                       "id": anything()}
    assert outputs != {"version": match(r"\d+"), "log": contains("x"), "items": ["a", "b"], "id": anything()}
    assert "1.2.3x" != match(r"\d+\.\d+\.\d+")  # a full match, not a search
    assert 12 != match(r"\d+") and 12 != contains("1")
    assert repr(match("a.*")) == "match('a.*')"


def test_scenario_documents_become_matchers_or_say_what_to_write() -> None:
    assert matcher_from_document({"$match": "v\\d+"}) == "v12"
    assert matcher_from_document({"$contains": "ok"}) == "it is ok"
    assert matcher_from_document({"$any": True}) == {"anything": 1}
    assert matcher_from_document({"string": "x"}) is None and matcher_from_document("$match") is None
    for document, message in (({"$any": 1}, r"write \{\$any: true\}"), ({"$match": 3}, "regular expression"),
                              ({"$match": "("}, "invalid regular expression"), ({"$regex": "x"}, "unknown matcher")):
        with pytest.raises(MatcherDocumentError, match=message):
            matcher_from_document(document)


def test_snapshot_matcher_stores_the_matcher_when_it_holds() -> None:
    matcher = snapshot_matcher({"outputs.version": match(r"\d+\.\d+")})
    path = (("outputs", dict), ("version", dict))
    assert matcher(data={"string": "1.22"}, path=path) == {"string": "match('\\\\d+\\\\.\\\\d+')"}
    assert matcher(data={"string": "dev"}, path=path) == {"string": "dev"}  # the diff shows the real value
    assert matcher(data="1.2", path=(("other", str),)) == "1.2"
