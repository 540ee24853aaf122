"""API profiles: which checks, against which rendering of the node API, make up a version's suite.

A check lists the profiles it belongs to (``@check(..., profiles=("0.1.5",))``); a later API version
gets its own entry here, its own rendering in schemas/, and adds or re-tags checks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    version: str
    api_document: str  # our OpenAPI rendering of that version's node API, in schemas/
    title: str


PROFILES: dict[str, Profile] = {
    "0.1.5": Profile("0.1.5", "node-api.openapi.yaml", "opspec 0.1.5 node API"),
}
