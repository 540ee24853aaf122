"""The checks, one module per endpoint (plus negative fuzzing and the response validation, which
judge every endpoint). Importing this package registers them, in this order."""

from __future__ import annotations

from typing import Iterable

from ...registry import Registry
from ..registry import REGISTRY, Check, Endpoint
from . import events_stream, fuzz, liveness, ops_kills, ops_starts, pkgs_contents, responses  # noqa: F401


def all_checks(extra: Iterable[Check] = ()) -> list[Check]:
    """Every registered check and the ``extra`` ones (from ``pytest_opspec_conformance_checks``), in run
    order: by phase, endpoint (as the seed lists them), then as registered. A duplicate id is an error."""
    checks: Registry[Check] = Registry("conformance check")
    for check in (*REGISTRY.values(), *extra):
        checks.add(check.id, check)
    endpoints = list(Endpoint)
    order = {check_id: index for index, check_id in enumerate(checks)}
    return sorted(checks.values(), key=lambda c: (c.phase, endpoints.index(c.endpoint), order[c.id]))


def profile_checks(version: str, extra: Iterable[Check] = ()) -> list[Check]:
    """The checks of API profile ``version``, in run order."""
    return [check for check in all_checks(extra) if version in check.profiles]
