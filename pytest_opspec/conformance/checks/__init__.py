"""The checks, one module per endpoint (plus negative fuzzing and the response validation, which
judge every endpoint). Importing this package registers them, in this order."""

from __future__ import annotations

from ..registry import REGISTRY, Check, Endpoint
from . import events_stream, fuzz, liveness, ops_kills, ops_starts, pkgs_contents, responses  # noqa: F401


def all_checks() -> list[Check]:
    """Every registered check, in run order: by phase, endpoint (as the seed lists them), then as
    registered within the endpoint's module."""
    endpoints = list(Endpoint)
    order = {check_id: index for index, check_id in enumerate(REGISTRY)}
    return sorted(REGISTRY.values(), key=lambda c: (c.phase, endpoints.index(c.endpoint), order[c.id]))


def profile_checks(version: str) -> list[Check]:
    """The checks of API profile ``version``, in run order."""
    return [check for check in all_checks() if version in check.profiles]
