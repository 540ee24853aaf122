"""The conformance suite's configuration: one table (OPTIONS) for both front ends.

`opspec conformance` reads each option from its flag, else its ``OPSPEC_CONFORMANCE_*`` env var;
`pytest --opspec-conformance` registers the same options as ``--opspec-conformance-*`` flags and ini
keys through pytest_opspec/settings.py (flag > env > ini). Either way ``Config.from_raw`` parses the
raw texts, so a bad value gets the same message, naming where it came from.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import OpspecError
from ..options import positive_seconds

from .profiles import DEFAULT_PROFILE, PROFILES
from .registry import Level

DEFAULT_IMAGE = "opspec-test/busybox:1"
DEFAULT_REF_TEMPLATE = "{path}"
REF_TEMPLATE_FIELDS = ("path", "name", "dir")


class ConfigError(OpspecError):
    """A configuration value does not parse; the message names the flag, env var or ini key."""


def _url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not an http:// or https:// URL of a node (e.g. http://127.0.0.1:42224)")
    return text.rstrip("/")


def _profile(text: str) -> str:
    if text not in PROFILES:
        raise ValueError(f"unknown profile {text!r}; known: {', '.join(PROFILES)}")
    return text


def _template(text: str) -> str:
    try:
        text.format(**{name: "x" for name in REF_TEMPLATE_FIELDS})
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(f"{text!r} is not a package ref template: use {{path}}, {{name}} or {{dir}} ({error})") \
            from None
    if "{path}" not in text and "{name}" not in text:
        raise ValueError(f"{text!r} names no package: use {{path}} (the package's local path) or {{name}}")
    return text


def _engine(text: str) -> str:
    if text in ("auto", "none") or re.match(r"^(unix|tcp|http|https|ssh)://", text):
        return text
    raise ValueError(f"{text!r} is not auto, none or a container engine URL (unix://..., tcp://...)")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{text!r}: must be 0 or more")
    return value


def _level(text: str) -> Level:
    try:
        return Level(text.upper())
    except ValueError:
        raise ValueError(f"{text!r} is not one of must, should, may") from None


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


@dataclass(frozen=True)
class Option:
    name: str  # the Config field
    flag: str  # of `opspec conformance`; "" for the positional URL
    help: str
    parse: Callable[[str], Any]
    metavar: str = ""
    multiple: bool = False  # repeatable flag; comma-separated in env and ini

    @property
    def env(self) -> str:
        return f"OPSPEC_CONFORMANCE_{self.name.upper()}"

    @property
    def pytest_flag(self) -> str:
        return "--opspec-conformance" if not self.flag else f"--opspec-conformance-{self.flag.lstrip('-')}"

    @property
    def ini(self) -> str:
        return f"opspec_conformance_{self.name}"


OPTIONS: tuple[Option, ...] = (
    Option("url", "", "the node to check (default: start the bundled node on a free loopback port and check it)",
           _url, "URL"),
    Option("profile", "--profile", f"the node API version to check against (default {DEFAULT_PROFILE}; "
           f"known: {', '.join(PROFILES)})", _profile, "VERSION"),
    Option("pkg_dir", "--pkg-dir", "where to write the suite's op packages; the node must be able to read them "
           "(default: a temporary directory, removed afterwards)", Path, "DIR"),
    Option("pkg_ref_template", "--pkg-ref-template", "how to name a package to the node: {path} is its local "
           "path, {name} its name, {dir} the package dir (default {path})", _template, "TEMPLATE"),
    Option("image", "--image", f"the image the suite's ops run (default {DEFAULT_IMAGE})", _text, "IMAGE"),
    Option("engine", "--engine", "where to look for the node's containers after a kill: auto (the local engine "
           "when the node runs on this host), none, or an engine URL such as unix:///var/run/docker.sock",
           _engine, "auto|none|URL"),
    Option("timeout", "--timeout", "seconds to wait for any one answer, event or op end (default 30)",
           positive_seconds, "SECONDS"),
    Option("select", "--select", "run only the checks whose id matches PATTERN (fnmatch, e.g. 'pkgs.*'; "
           "repeatable)", _text, "PATTERN", multiple=True),
    Option("disable", "--disable", "turn off check CHECK_ID, or the checks an fnmatch pattern matches (reported "
           "as Disabled; repeatable)", _text, "CHECK_ID", multiple=True),
    Option("fail_on", "--fail-on", "the lowest level whose failures make the exit status non-zero: must "
           "(default), should or may; errors always do", _level, "LEVEL"),
    Option("fuzz_examples", "--fuzz-examples", "requests per negative-fuzzing check (default 50; 0 disables "
           "them)", _count, "N"),
    Option("junit_xml", "--junit-xml", "write a JUnit XML report to FILE", Path, "FILE"),
    Option("report_json", "--report-json", "write the machine-readable result (JSON) to FILE", Path, "FILE"),
    Option("report_html", "--report-html", "write a self-contained HTML report to FILE", Path, "FILE"),
)
OPTION_BY_NAME = {option.name: option for option in OPTIONS}


@dataclass(frozen=True)
class Config:
    url: str | None = None  # None: the bundled node
    profile: str = DEFAULT_PROFILE
    pkg_dir: Path | None = None
    pkg_ref_template: str = DEFAULT_REF_TEMPLATE
    image: str = DEFAULT_IMAGE
    engine: str = "auto"
    timeout: float = 30.0
    select: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    fail_on: Level = Level.MUST
    fuzz_examples: int = 50
    junit_xml: Path | None = None
    report_json: Path | None = None
    report_html: Path | None = None

    @classmethod
    def from_raw(cls, raw: Mapping[str, tuple[Any, str]]) -> Config:
        """Parse ``{name: (raw value, where it came from)}``; a raw value is a text, or a list of texts
        for a repeatable option (env and ini values are split at commas)."""
        values: dict[str, Any] = {}
        for name, (value, where) in raw.items():
            option = OPTION_BY_NAME[name]
            try:
                if option.multiple:
                    items = [value] if isinstance(value, str) else list(value)
                    values[name] = tuple(option.parse(part) for item in items for part in item.split(",")
                                         if part.strip())
                else:
                    values[name] = option.parse(str(value))
            except ValueError as error:
                raise ConfigError(f"{where}: {error}") from None
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """Every setting, with credentials in URLs redacted (for reports)."""
        document: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Level):
                value = value.value.lower()
            if item.name in ("url", "engine") and isinstance(value, str):
                value = redact_url(value)
            document[item.name] = value
        return document


_SECRET_PARAM = re.compile(r"(pass|secret|token|key|auth|cred)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL with its password and secret-looking query parameters replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, sep, _ = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if sep else f"***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(key, "***" if _SECRET_PARAM.search(key) else value) for key, value in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def raw_from_env(environ: Mapping[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """The options set through ``OPSPEC_CONFORMANCE_*`` env vars."""
    environ = os.environ if environ is None else environ
    found = {}
    for option in OPTIONS:
        value = environ.get(option.env, "").strip()
        if value:
            found[option.name] = (value, f"env {option.env}")
    return found
