"""The ``format`` values a param constraint may name (SEMANTICS §2 "Formats").

Each checker accepts what the reference accepts. As in the reference's validator, a format
applies to strings and numbers only: any other JSON value passes, and a string format given a
number (or ``integer`` given a string) fails.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any


class _LazyPattern:
    """A regular expression compiled on first use: compiling them all took ~20 ms of every start-up."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    @functools.cached_property
    def _compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    def match(self, text: str) -> re.Match[str] | None:
        return self._compiled.match(text)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self._compiled.fullmatch(text)

# ---------------------------------------------------------------------------------------------
# integer


def is_integer(instance: Any) -> bool:
    """A number equal to its ceiling (``3.0`` passes; ``2.5`` and NaN fail)."""
    if not _is_number(instance):
        return False
    number = float(instance)
    return not math.isnan(number) and (math.isinf(number) or math.ceil(number) == number)


# ---------------------------------------------------------------------------------------------
# semver: strict SemVer 2.0 as parsed by github.com/blang/semver


_UINT64_MAX = 2**64 - 1
_SEMVER_IDENTIFIER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789")


def is_semver(instance: Any) -> bool:
    """``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]``: numbers without leading zeros (also numeric
    pre-release identifiers), identifiers of ``[0-9A-Za-z-]`` and never empty, no ``v`` prefix."""
    if not isinstance(instance, str) or not instance:
        return False
    parts = instance.split(".", 2)
    if len(parts) != 3:
        return False
    major, minor, patch = parts
    build: list[str] = []
    prerelease: list[str] = []
    patch, plus, build_text = patch.partition("+")
    if plus:
        build = build_text.split(".")
    patch, dash, prerelease_text = patch.partition("-")
    if dash:
        prerelease = prerelease_text.split(".")
    if not all(_is_version_number(number) for number in (major, minor, patch)):
        return False
    for identifier in prerelease:
        if not identifier or not set(identifier) <= _SEMVER_IDENTIFIER_CHARS:
            return False
        if identifier.isascii() and identifier.isdigit() and not _is_version_number(identifier):
            return False
    return all(identifier and set(identifier) <= _SEMVER_IDENTIFIER_CHARS for identifier in build)


def _is_version_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and not (len(text) > 1 and text[0] == "0") and int(text) <= _UINT64_MAX


# ---------------------------------------------------------------------------------------------
# docker-image-ref: the docker distribution reference grammar
#   reference      := name [ ":" tag ] [ "@" digest ]
#   name           := [domain "/"] path-component ["/" path-component]*
#   domain         := domain-component ["." domain-component]* [":" port-number]
#   path-component := lowercase alphanumerics, joined by ".", "_", "__" or one or more "-"
#   tag            := [\w][\w.-]{0,127}
#   digest         := algorithm ":" hex (32+ hex digits), algorithm sha256/sha384/sha512 with
#                     exactly 64/96/128 lowercase hex digits
# Written so that no input can make the (backtracking) regex engine take exponential time.

_PATH_COMPONENT = r"[a-z0-9]+(?:(?:\.|__|_|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_IMAGE_REFERENCE = _LazyPattern(rf"(?P<name>{_NAME})(?::{_TAG})?(?:@(?P<digest>{_DIGEST}))?")
_NAME_LENGTH_MAX = 255
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_LOWER_HEX = _LazyPattern(r"[0-9a-f]+")


def is_docker_image_ref(instance: Any) -> bool:
    if not isinstance(instance, str):
        return False
    match = _IMAGE_REFERENCE.fullmatch(instance)
    if match is None or len(match.group("name")) > _NAME_LENGTH_MAX:
        return False
    digest = match.group("digest")
    if digest is None:
        return True
    algorithm, _, encoded = digest.partition(":")
    return _DIGEST_HEX_LENGTHS.get(algorithm) == len(encoded) and _LOWER_HEX.fullmatch(encoded) is not None


# ---------------------------------------------------------------------------------------------
# date-time: any of Go's time layouts "15:04:05", "15:04:05Z07:00", "2006-01-02", RFC3339 and
# RFC3339Nano, with Go's lenient parse (one- or two-digit hour, any number of fraction digits
# after the seconds).

_CLOCK = r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.[0-9]+)?"
_ZONE = r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
_DATE = r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
_DATE_TIME_LAYOUTS = [
    _LazyPattern(_CLOCK),
    _LazyPattern(_CLOCK + _ZONE),
    _LazyPattern(_DATE),
    _LazyPattern(_DATE + "T" + _CLOCK + _ZONE),
]
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_date_time(instance: Any) -> bool:
    if not isinstance(instance, str):
        return False
    return any(_fits_layout(layout, instance) for layout in _DATE_TIME_LAYOUTS)


def _fits_layout(layout: _LazyPattern, text: str) -> bool:
    match = layout.fullmatch(text)
    if match is None:
        return False
    fields = match.groupdict()
    if "hour" in fields and not (
        int(fields["hour"]) < 24 and int(fields["minute"]) < 60 and int(fields["second"]) < 60
    ):
        return False
    if "year" in fields:
        year, month, day = int(fields["year"]), int(fields["month"]), int(fields["day"])
        if not 1 <= month <= 12:
            return False
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        days = 29 if month == 2 and leap else _DAYS_IN_MONTH[month - 1]
        if not 1 <= day <= days:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# email: what the reference's validator accepts: a dot-atom local part, or a quoted one, "@",
# then dot-separated labels ending in a label that starts and ends with a letter, optionally
# followed by one ".". Non-ASCII letters from U+00A0 on count as letters. The reference's quoted
# form is not RFC 5322's: its pattern is grouped so that it reads as repetitions of '"' followed
# by one (optionally space-preceded) character or "(" plus one character, then a closing '"'.
# So '"a"@b.co' and even '"@b.co' pass while '"ab"@b.co' fails; we accept the same.

_INTERNATIONAL = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
_ATEXT = rf"[a-zA-Z0-9!#$%&'*+\-/=?^_`{{|}}~{_INTERNATIONAL}]"
_QTEXT = rf"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\x21\x23-\x5b\x5d-\x7e{_INTERNATIONAL}]"
_PAREN_PAIR = r"\([\x01-\x09\x0b\x0c\x0d-\x7f]"
_FOLDING_SPACE = r"(?:[ \t]*\r\n)?[ \t]+"
_LOCAL_PART = _LazyPattern(
    rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
    rf'|(?:"(?:{_FOLDING_SPACE})?(?:{_QTEXT}|{_PAREN_PAIR}))*(?:{_FOLDING_SPACE})?"'
)
_DOMAIN_CHAR = _LazyPattern(rf"[a-zA-Z0-9\-._~{_INTERNATIONAL}]*")
_DOMAIN_EDGE = _LazyPattern(rf"[a-zA-Z0-9{_INTERNATIONAL}]")
_DOMAIN_LETTER = _LazyPattern(rf"[a-zA-Z{_INTERNATIONAL}]")


def is_email(instance: Any) -> bool:
    if not isinstance(instance, str):
        return False
    # The domain cannot hold "@", so the last "@" separates it from the local part.
    local, at, domain = instance.rpartition("@")
    if not at or _LOCAL_PART.fullmatch(local) is None:
        return False
    return _is_email_domain(domain)


def _is_email_domain(domain: str) -> bool:
    """``label "." top-label ["."]``, where labels may themselves contain ``.-_~`` inside, a label
    starts and ends with a letter or digit, and the top label starts and ends with a letter.
    Checked directly rather than by regex: the grammar is ambiguous and would backtrack."""
    if domain.endswith("."):
        domain = domain[:-1]
    if len(domain) < 3 or _DOMAIN_CHAR.fullmatch(domain) is None:
        return False
    if not (_DOMAIN_EDGE.fullmatch(domain[0]) and _DOMAIN_LETTER.fullmatch(domain[-1])):
        return False
    return any(
        domain[index] == "."
        and _DOMAIN_EDGE.fullmatch(domain[index - 1])
        and _DOMAIN_LETTER.fullmatch(domain[index + 1])
        for index in range(1, len(domain) - 1)
    )


# ---------------------------------------------------------------------------------------------
# hostname

_HOSTNAME_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_HOSTNAME = _LazyPattern(rf"{_HOSTNAME_LABEL}(?:\.{_HOSTNAME_LABEL})*")


def is_hostname(instance: Any) -> bool:
    """Dot-separated labels of up to 63 letters, digits and inner hyphens; under 256 characters."""
    return isinstance(instance, str) and len(instance) < 256 and _HOSTNAME.fullmatch(instance) is not None


# ---------------------------------------------------------------------------------------------
# ipv4 / ipv6: the text parses as an IP address (Go's net.ParseIP of the reference's Go 1.9:
# no zones, IPv4 parts may have leading zeros) and contains "." / ":".


def is_ipv4(instance: Any) -> bool:
    return isinstance(instance, str) and "." in instance and parse_ip(instance)


def is_ipv6(instance: Any) -> bool:
    return isinstance(instance, str) and ":" in instance and parse_ip(instance)


def parse_ip(text: str) -> bool:
    """Whether Go's ``net.ParseIP`` accepts ``text``: the first ``.`` or ``:`` decides the family."""
    for char in text:
        if char == ".":
            return _parses_ipv4(text)
        if char == ":":
            return _parses_ipv6(text)
    return False


def _leading_number(text: str, digits: str, limit: int) -> tuple[int, int] | None:
    """The number at the start of ``text`` and its length, or None when there is no digit or it
    reaches ``limit`` (Go's dtoi/xtoi give up there)."""
    number = length = 0
    base = len(digits)
    while length < len(text) and text[length] in digits:
        number = number * base + digits.index(text[length])
        length += 1
        if number >= limit:
            return None
    return (number, length) if length else None


_DECIMAL = "0123456789"
_HEX = "0123456789abcdef"
_GO_BIG = 0xFFFFFF


def _parses_ipv4(text: str) -> bool:
    rest = text
    for part in range(4):
        if part:
            if not rest.startswith("."):
                return False
            rest = rest[1:]
        parsed = _leading_number(rest, _DECIMAL, _GO_BIG)
        if parsed is None or parsed[0] > 0xFF:
            return False
        rest = rest[parsed[1] :]
    return rest == ""


def _parses_ipv6(text: str) -> bool:
    rest = text
    ellipsis = -1
    if rest.startswith("::"):
        ellipsis = 0
        rest = rest[2:]
        if not rest:
            return True
    filled = 0  # bytes of the 16 parsed so far
    while filled < 16:
        parsed = _leading_number(rest.lower(), _HEX, _GO_BIG)
        if parsed is None or parsed[0] > 0xFFFF:
            return False
        length = parsed[1]
        if length < len(rest) and rest[length] == ".":
            # A trailing IPv4 part fills the last 4 bytes.
            if (ellipsis < 0 and filled != 12) or filled + 4 > 16 or not _parses_ipv4(rest):
                return False
            rest = ""
            filled += 4
            break
        filled += 2
        rest = rest[length:]
        if not rest:
            break
        if rest[0] != ":" or len(rest) == 1:
            return False
        rest = rest[1:]
        if rest[0] == ":":
            if ellipsis >= 0:
                return False
            ellipsis = filled
            rest = rest[1:]
            if not rest:
                break
    if rest:
        return False
    if filled < 16:
        return ellipsis >= 0
    return ellipsis < 0


# ---------------------------------------------------------------------------------------------
# uri: parses as a URL (Go's net/url of the reference) and has a non-empty scheme.

_SCHEME = _LazyPattern(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_HEX_CHARS = frozenset("0123456789abcdefABCDEF")
# Characters allowed unescaped in a URL host besides letters and digits.
_HOST_CHARS = frozenset("-_.~!$&'()*+,;=:[]<>\"")


def is_uri(instance: Any) -> bool:
    """``a:b`` passes (an opaque URI); ``/path`` fails (no scheme); malformed ``%`` escapes and
    invalid host characters fail."""
    if not isinstance(instance, str):
        return False
    text, _, fragment = instance.partition("#")
    if not _escapes_ok(fragment):
        return False
    scheme = _SCHEME.match(text)
    if scheme is None:
        return False
    rest = text[scheme.end() :]
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        return True  # opaque: not checked any further
    if rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        userinfo, at, host = authority.rpartition("@")
        if not _host_ok(host if at else authority) or (at and not _escapes_ok(userinfo)):
            return False
    return _escapes_ok(rest)


def _escapes_ok(text: str) -> bool:
    """Every ``%`` starts a two-hex-digit escape."""
    index = text.find("%")
    while index >= 0:
        escape = text[index + 1 : index + 3]
        if len(escape) < 2 or not set(escape) <= _HEX_CHARS:
            return False
        index = text.find("%", index + 3)
    return True


def _host_ok(host: str) -> bool:
    if host.startswith("["):
        closing = host.rfind("]")
        if closing < 0:
            return False
        port = host[closing + 1 :]
        if port and not (port[0] == ":" and all(char in _DECIMAL for char in port[1:])):
            return False
        zone = host.find("%25", 0, closing)
        if zone >= 0:
            return _escapes_ok(host)
    index = 0
    while index < len(host):
        char = host[index]
        if char == "%":
            escape = host[index + 1 : index + 3]
            if len(escape) < 2 or not set(escape) <= _HEX_CHARS:
                return False
            # Only non-ASCII bytes (and "%25") may be escaped in a host.
            if int(escape[0], 16) < 8 and escape != "25":
                return False
            index += 3
            continue
        if char.isascii() and not (char.isalnum() or char in _HOST_CHARS):
            return False
        index += 1
    return True


# ---------------------------------------------------------------------------------------------


def _is_number(instance: Any) -> bool:
    return isinstance(instance, (int, float)) and not isinstance(instance, bool)


# format name -> checker; each returns whether a string or number instance has the format.
FORMAT_CHECKS: dict[str, Callable[[Any], bool]] = {
    "date-time": is_date_time,
    "docker-image-ref": is_docker_image_ref,
    "email": is_email,
    "hostname": is_hostname,
    "integer": is_integer,
    "ipv4": is_ipv4,
    "ipv6": is_ipv6,
    "semver": is_semver,
    "uri": is_uri,
}
