"""The valid part of a schema-invalid op.yml, so that the static checks can still look at the rest.

Each schema error's node is pruned (repeatedly, as pruning a required key invalidates its parent) until
the document passes the schema. Calls and params are replaced by harmless placeholders instead of being
removed, so that list indices, and so every location and line of the remaining parts, stay as they are,
and names declared by an invalid param stay in scope.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .build import build_op
from .problems import Location
from .schema import schema_issues
from .types import OpDefinition
from .document import YamlDocument

# Pruning converges in a few rounds (each round removes nodes); the bound guards against a schema surprise.
_MAX_ROUNDS = 25
_CALL_LISTS = ("serial", "parallel")


@dataclass(frozen=True, slots=True)
class SalvagedOp:
    op: OpDefinition
    # Nodes replaced or removed: their problems are the schema's to report.
    pruned: tuple[Location, ...]

    def covers(self, location: Location) -> bool:
        return any(location[:len(node)] == node for node in self.pruned)


def salvage_op(file: Path, document: YamlDocument) -> SalvagedOp | None:
    """The model of ``document`` without its schema-invalid parts; None when nothing sensible is left."""
    data = copy.deepcopy(document.data)
    pruned: list[Location] = []
    for _ in range(_MAX_ROUNDS):
        issues = schema_issues(data)
        if not issues:
            return SalvagedOp(build_op(data, file, document.positions, document.key_positions), tuple(pruned))
        for issue in issues:
            if issue.location == () and "name" not in data:
                data["name"] = ""  # the schema already says it is missing; the checks do not need it
                continue
            node = _prunable(issue.location)
            if node is None:
                return None
            _prune(data, node, placeholder=node not in pruned)
            pruned.append(node)
    return None


def _prunable(location: Location) -> Location | None:
    """The node to prune for an error at ``location``: a list item only where it can be replaced (a call)."""
    while location:
        parent = location[:-1]
        if isinstance(location[-1], str) or (parent and parent[-1] in _CALL_LISTS):
            return location
        location = parent  # an item of cmd, enum... : the whole list goes
    return None


def _placeholder(node: Location) -> Any:
    if node == ("run",) or (len(node) >= 2 and node[-2] in _CALL_LISTS):
        return {"serial": []}  # a call that binds and references nothing
    if len(node) == 2 and node[0] in ("inputs", "outputs"):
        return {"string": {}}  # keeps the name declared
    return None


def _prune(data: Any, node: Location, placeholder: bool) -> None:
    parent: Any = data
    try:
        for step in node[:-1]:
            parent = parent[step]
        key = node[-1]
        parent[key]  # noqa: B018 (gone already when an enclosing node was pruned first)
    except (KeyError, IndexError, TypeError):
        return
    replacement = _placeholder(node) if placeholder else None
    if replacement is None and isinstance(parent, dict):
        del parent[key]
    else:  # a list item: only calls get here (see _prunable)
        parent[key] = replacement if replacement is not None else {"serial": []}
