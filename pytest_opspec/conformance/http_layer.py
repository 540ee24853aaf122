"""Answers of the HTTP layer: requests whose target is not an ordinary URI path are answered before
any route of the API is chosen, so HTTP judges them, not the API document. One rule, used by the
responses-match-spec checks, the fuzz checks and the traversal check alike:

- a path with an invalid percent-escape is not a URI (RFC 3986 §2.1): any 4xx but 416 is right
  (servers answer 400);
- a path with dot-segments (``.``, ``..``, also written ``%2e``) or empty segments is not in normal
  form (RFC 3986 §5.2.4, §6.2.2): the server may redirect to the normal form (3xx), refuse it (4xx
  but 416) or answer for the normal form (2xx).

Anything else (a 5xx, a 416, a 1xx) is wrong there. ``%2F`` is not a separator: an encoded content
path such as ``%2F..%2Fx`` is one ordinary segment, judged by the API and the traversal check.
"""

from __future__ import annotations

import re

from .transport import Exchange

_INVALID_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DOT_SEGMENTS = {".", "..", "%2e", "%2e%2e", ".%2e", "%2e."}


def target_anomaly(target: str) -> str | None:
    """Why the request target is not an ordinary URI path (None when it is one)."""
    path = target.split("?", 1)[0]  # a query is the endpoint's to judge
    if _INVALID_ESCAPE.search(path):
        return "has an invalid percent-escape (RFC 3986 §2.1)"
    segments = path.split("/")[1:]
    if any(segment.lower() in _DOT_SEGMENTS for segment in segments) or "" in segments[:-1]:
        return "is not in normal form: dot-segments or empty segments (RFC 3986 §5.2.4, §6.2.2)"
    return None


def judge(exchange: Exchange) -> tuple[bool, str | None]:
    """(whether the HTTP layer answers this request, and if so what is wrong with its answer)."""
    anomaly = target_anomaly(exchange.target)
    if anomaly is None:
        return False, None
    status = exchange.status
    refused = 400 <= status < 500 and status != 416
    if anomaly.startswith("has an invalid") and not refused:
        return True, f"the target {anomaly}: expected a 4xx (not 416), got {status}"
    if not (refused or 200 <= status < 400):
        return True, f"the target {anomaly}: expected a redirect to its normal form or a 4xx (not 416), got {status}"
    return True, None
