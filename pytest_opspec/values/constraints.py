"""Param constraints: the raw draft-04 keywords of a param, checked with a real validator.

SEMANTICS §10.8: the reference drops zero-valued constraints and ignores nested formats and
combinators; we validate the constraint dict as written, with draft-04 semantics and opspec's
formats (``integer``, ``semver``, ``docker-image-ref`` besides the JSON Schema ones, SEMANTICS §2).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Mapping
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker

FORMATS = FormatChecker(formats=())

_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\Z")
# github.com/docker/distribution/reference grammar.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[_.]|__|[-]*)[a-z0-9]+)*"
_DOCKER_REF = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?/)?"
    rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?\Z")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\Z")
_HOSTNAME = re.compile(r"(?=.{1,255}\Z)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                       r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?\Z")


@FORMATS.checks("integer")
def _integer(instance: object) -> bool:
    if isinstance(instance, bool) or not isinstance(instance, (int, float)):
        return True
    return math.isfinite(instance) and math.ceil(instance) == instance


@FORMATS.checks("semver")
def _semver(instance: object) -> bool:
    return not isinstance(instance, str) or bool(_SEMVER.match(instance))


@FORMATS.checks("docker-image-ref")
def _docker_image_ref(instance: object) -> bool:
    return not isinstance(instance, str) or bool(_DOCKER_REF.match(instance))


@FORMATS.checks("date-time")
def _date_time(instance: object) -> bool:
    """RFC 3339, or (as the reference accepts) a bare date or a bare time of day."""
    if not isinstance(instance, str):
        return True
    for parse in (datetime.fromisoformat, date.fromisoformat, time.fromisoformat):
        try:
            parse(instance.replace("Z", "+00:00").replace("z", "+00:00"))
            return True
        except ValueError:
            continue
    return False


@FORMATS.checks("email")
def _email(instance: object) -> bool:
    return not isinstance(instance, str) or bool(_EMAIL.match(instance))


@FORMATS.checks("hostname")
def _hostname(instance: object) -> bool:
    return not isinstance(instance, str) or bool(_HOSTNAME.match(instance))


@FORMATS.checks("ipv4")
def _ipv4(instance: object) -> bool:
    return not isinstance(instance, str) or _ip(instance, ipaddress.IPv4Address)


@FORMATS.checks("ipv6")
def _ipv6(instance: object) -> bool:
    return not isinstance(instance, str) or _ip(instance, ipaddress.IPv6Address)


@FORMATS.checks("uri")
def _uri(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    try:
        return bool(urlsplit(instance).scheme)
    except ValueError:
        return False


def _ip(text: str, kind: type) -> bool:
    try:
        kind(text)
        return True
    except ValueError:
        return False


@lru_cache(maxsize=256)
def _validator(frozen: str) -> Draft4Validator:
    return Draft4Validator(json.loads(frozen), format_checker=FORMATS)


def constraint_errors(constraints: Mapping[str, Any] | None, data: Any) -> list[str]:
    """Messages for every constraint ``data`` (JSON data of the coerced value) violates."""
    if not constraints:
        return []
    validator = _validator(json.dumps(constraints, sort_keys=True))
    return [_message(error) for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path))]


def _message(error: Any) -> str:
    where = "".join(f"[{part!r}]" if isinstance(part, str) else f"[{part}]" for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message
