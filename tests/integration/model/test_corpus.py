"""The 2,483 real op packages of ../shared/corpus: every verdict is INDEX.json's, or a reviewed decision.

Skipped where ../shared is absent (a user's clone); see tests/support.py for how it is found.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from pytest_opspec.cli import main
from pytest_opspec.model.problems import InvalidOpError
from pytest_opspec.model.schema import inline_local_refs, op_schema
from pytest_opspec.model.schema_check import compile_schema
from pytest_opspec.model.yaml12 import load_yaml_file

from tests.support import DATA, REPO

DECISIONS = json.loads((DATA / "corpus_decisions.json").read_text())


@pytest.fixture(scope="module")
def corpus(shared: Path) -> Path:
    return shared / "corpus" / "opspec-pkgs"


@pytest.fixture(scope="module")
def index(corpus: Path) -> dict[str, str]:
    entries = json.loads((corpus / "INDEX.json").read_text())["entries"]
    assert len(entries) == 2483
    return {entry["folder"]: entry["verdict"] for entry in entries}


def expected_verdict(folder: str, index: dict[str, str]) -> str:
    return "invalid" if folder in DECISIONS["folders"] else index[folder]


def test_decisions_are_documented_and_flip_a_verdict(index: dict[str, str]) -> None:
    compatibility = (REPO / "docs" / "compatibility.md").read_text()
    for decision in DECISIONS["decisions"].values():
        assert f"## {decision['section']}" in compatibility
    for folder, decision in DECISIONS["folders"].items():
        assert decision in DECISIONS["decisions"]
        assert index[folder] == "valid", f"{folder} is already invalid in INDEX.json: not a flip"


def test_our_schema_agrees_with_the_published_one_on_every_corpus_file(
        corpus: Path, index: dict[str, str], shared: Path) -> None:
    """No schema decision changes a corpus verdict; only the YAML 1.2 reading does (listed decisions)."""
    upstream_schema = json.loads((shared / "spec" / "upstream" / "op.yml.schema.json").read_text())
    upstream = Draft4Validator(inline_local_refs(upstream_schema))
    ours = Draft4Validator(inline_local_refs(json.loads(json.dumps(op_schema()))))
    refused, differ = [], []
    for folder in index:
        try:
            document = load_yaml_file(corpus / folder / "op.yml").data
        except InvalidOpError:
            refused.append(folder)
            continue
        valid = ours.is_valid(document)
        if valid is not upstream.is_valid(document) or index[folder] != ("valid" if valid else "invalid"):
            differ.append(folder)
    assert differ == []
    # Files the YAML 1.2 reading refuses: the listed decisions, plus files INDEX.json already marks invalid.
    yaml_decisions = {f for f, d in DECISIONS["folders"].items() if d.startswith("yaml-")}
    assert {f for f in refused if index[f] == "valid"} == yaml_decisions


def test_opspec_validate_gives_every_verdict(corpus: Path, index: dict[str, str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--format", "json", str(corpus)])
    document = json.loads(capsys.readouterr().out)
    assert code == 1  # the corpus holds invalid packages
    packages: dict[str, dict[str, Any]] = {Path(p["package"]).name: p for p in document["packages"]
                                           if Path(p["package"]).parent == corpus}
    assert set(packages) == set(index)
    wrong = {folder: packages[folder]["valid"] for folder in index
             if packages[folder]["valid"] is not (expected_verdict(folder, index) == "valid")}
    assert wrong == {}
    for folder, decision_id in DECISIONS["folders"].items():
        decision = DECISIONS["decisions"][decision_id]
        errors = [p for p in packages[folder]["problems"] if p["severity"] == "error"]
        assert errors and all(p["check"] == decision["check"] and decision["message"] in p["message"]
                              for p in errors), (folder, errors)


def test_pytest_opspec_gives_the_same_verdicts(pytester: pytest.Pytester, corpus: Path,
                                               index: dict[str, str]) -> None:
    """Through pytest on a sample (every decision folder and every 20th folder), to stay fast."""
    folders = sorted(set(DECISIONS["folders"]) | set(sorted(index)[::20]))
    args = [arg for folder in folders for arg in ("--opspec", str(corpus / folder))]
    reprec = pytester.inline_run(*args, "-p", "no:cacheprovider", "-W", "ignore")
    outcomes = {Path(r.nodeid.split("::")[0]).name: r.outcome
                for r in reprec.getreports("pytest_runtest_logreport") if r.when == "call"}
    expected = {folder: "passed" if expected_verdict(folder, index) == "valid" else "failed" for folder in folders}
    assert {folder: outcomes.get(folder) for folder in folders} == expected


# Values a mutation puts in place of a node: every JSON type, and the values where draft-04 is subtle
# (true is not 1, 1.5 is no integer, empty containers).
MUTANTS: list[Any] = [None, True, False, 0, 1, -1, 1.5, "", "x", "$(x)", [], [1, True], {}, {"a": 1}, {"type": "x"}]


def _nodes(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    children = document.items() if isinstance(document, dict) else enumerate(document) \
        if isinstance(document, list) else ()
    for key, child in children:
        found.extend(_nodes(child, (*path, key)))
    return found


def _mutated(document: Any, rng: random.Random) -> Any:
    """A copy with one node replaced, removed, or given an extra key."""
    mutant = copy.deepcopy(document)
    *parents, last = rng.choice(_nodes(mutant)[1:])
    parent = mutant
    for key in parents:
        parent = parent[key]
    action = rng.choice(("replace", "remove", "add"))
    if action == "remove":
        del parent[last]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last][rng.choice(["zz", "type", "items", "enum", "minimum", "default", "pattern"])] = rng.choice(MUTANTS)
    else:
        parent[last] = rng.choice(MUTANTS)
    return mutant


def test_the_compiled_validity_check_agrees_with_jsonschema(corpus: Path, index: dict[str, str]) -> None:
    """`opspec run` answers "valid?" without jsonschema (schema_check.py): on every corpus file and on
    two mutations of each, its verdict must be jsonschema's."""
    check = compile_schema(op_schema())
    reference = Draft4Validator(inline_local_refs(json.loads(json.dumps(op_schema()))))
    rng = random.Random(13)
    differ, verdicts = [], {True: 0, False: 0}
    for folder in sorted(index):
        try:
            document = load_yaml_file(corpus / folder / "op.yml").data
        except InvalidOpError:
            continue
        for candidate in (document, _mutated(document, rng), _mutated(document, rng)):
            verdict = reference.is_valid(candidate)
            verdicts[verdict] += 1
            if check(candidate) is not verdict:
                differ.append((folder, json.dumps(candidate)[:200]))
    assert differ == []
    assert min(verdicts.values()) > 1000  # both verdicts well represented
