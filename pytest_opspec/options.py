"""Every setting of pytest-opspec in one typed table, read the same way by every front end.

The pytest plugin (plugin/options.py), `opspec run`, `opspec node` and `opspec conformance` all read their
settings from ``OPTIONS`` (and the conformance suite's ``CONFORMANCE_OPTIONS``) through ``resolve``:

    the command-line flag  >  the OPSPEC_* environment variable  >  the ini key (pytest only)  >  the default

A value that does not parse raises ``OptionError`` naming where it came from (``--opspec-timeout: ...``,
``env OPSPEC_TIMEOUT: ...``, ``ini opspec_timeout: ...``): the CLI exits 2 with it, pytest reports a usage
error. An empty or blank environment variable counts as unset.

How to add an option (a few lines):

1. Add an ``Option`` to ``OPTIONS``: its ``name`` (the attribute front ends read), ``help``, ``parse`` (one
   text -> the value, raising ValueError with a short message; reuse the parsers below), ``default``,
   ``env`` (``OPSPEC_...``), and where it is read: ``pytest_flag`` + ``ini`` for the plugin (the ini key is
   also the argparse dest), ``cli`` + ``commands`` for `opspec` subcommands. ``kind`` says how the flag is
   given: a value, an on/off switch, a repeatable list (env and ini entries separated by commas), paths.
2. Read it: the plugin's ``PluginSettings`` (plugin/options.py) gets a field filled in ``load``; a command
   gets ``values = read_command_options(args, "run")`` and uses ``values["name"]``.
3. Document it in README.md ("Options"); `--help` lists it with its env var and ini key by itself.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from .errors import OpspecError
from .limits import Limits, parse_cpus, parse_memory, parse_network, parse_pids


class OptionError(OpspecError):
    """A setting's value does not parse; the message starts with the flag, env var or ini key it came from."""


class Source(StrEnum):
    CLI = "cli"
    ENV = "env"
    INI = "ini"
    DEFAULT = "default"


class Kind(StrEnum):
    VALUE = "value"  # one value
    SWITCH = "switch"  # on/off: the flag takes no value; env and ini take 1/0, true/false, yes/no, on/off
    LIST = "list"  # the flag repeats; env, ini and flag values also split at commas (ini: one per line too)
    PATHS = "paths"  # the flag takes several; env separates them with os.pathsep; ini paths are relative to it
    OPTIONAL = "optional"  # pytest: the flag alone switches something on, its value is optional


# -- parsers: one text -> a value, or ValueError with a message to show after the option's name --------

def positive_seconds(text: str) -> float:
    """A timeout in seconds, more than 0."""
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    if not seconds > 0:
        raise ValueError(f"{text!r}: the timeout must be more than 0 seconds")
    return seconds


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a port number") from None
    if not 0 < port < 65536:
        raise ValueError(f"{text!r} is not a port number (1-65535)")
    return port


def command_words(text: str) -> tuple[str, ...]:
    """A command line, split as a POSIX shell would (no expansion)."""
    import shlex  # here: only a few options are command lines; every command imports this module

    try:
        words = tuple(shlex.split(text))
    except ValueError as error:
        raise ValueError(f"{text!r} does not split into words ({error})") from None
    if not words:
        raise ValueError("must not be empty")
    return words


def env_assignment(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` -> (NAME, VALUE)."""
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"{text!r} is not NAME=VALUE with a variable name of letters, digits and _")
    return name, value


def volume_bind(text: str) -> str:
    """``SOURCE:TARGET[:ro|rw]``, as ``docker run -v`` takes it -> ``SOURCE:TARGET:MODE``."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts[:2]):
        raise ValueError(f"{text!r} is not SOURCE:TARGET[:ro|rw] (e.g. /var/run/docker.sock:/var/run/docker.sock)")
    mode = parts[2] if len(parts) == 3 else "rw"
    if mode not in ("ro", "rw"):
        raise ValueError(f"{text!r}: the mode must be ro or rw, not {mode!r}")
    if not parts[1].startswith("/"):
        raise ValueError(f"{text!r}: the target {parts[1]!r} must be an absolute path in the container")
    return f"{parts[0]}:{parts[1]}:{mode}"


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def on_off(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(f"{text!r} is not on/off (use 1/0, true/false, yes/no or on/off)")


def http_url(text: str) -> str:
    """A node's base URL, without a trailing slash."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not an http:// or https:// URL of a node (e.g. http://127.0.0.1:42224)")
    return text.rstrip("/")


_DEFAULT_PORTS = {"http": 80, "https": 443}


def web_origin(text: str) -> str:
    """A browser's Origin: ``scheme://host[:port]``, lower-cased, default port dropped (``null`` stays)."""
    text = text.strip()
    if text == "null":
        return text
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (not parts.scheme or not parts.hostname or parts.username is not None or parts.path not in ("", "/")
            or parts.query or parts.fragment or port == -1):
        raise ValueError(f"{text!r} is not an origin (scheme://host[:port], e.g. http://localhost:3000)")
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS.get(scheme) else "")


def image_map_entry(text: str) -> tuple[str, str]:
    """``REF=LOCAL``: run image REF as LOCAL."""
    source, sep, target = text.partition("=")
    if not sep or not source.strip() or not target.strip():
        raise ValueError(f"image map entry {text!r} is not REF=LOCAL_REF (e.g. alpine:3.6=local/busybox:1)")
    return source.strip(), target.strip()


def pkg_map_entry(text: str) -> tuple[str, Path]:
    """``REF=DIR``: use the package in DIR for REF (``host/path#tag``, or ``host/path`` for every version)."""
    ref, sep, directory = text.partition("=")
    if not sep or not ref.strip() or not directory.strip():
        raise ValueError(f"{text!r} is not REF=DIR (e.g. github.com/org/pkg#1.0.0=./stubs/pkg)")
    path = Path(directory.strip()).expanduser().absolute()
    if not (path / "op.yml").is_file():
        raise ValueError(f"{ref.strip()} is mapped to {path}, which has no op.yml")
    return ref.strip(), path


def whole_number(text: str) -> int:
    """0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{text!r}: must be 0 or more")
    return value


def positive_number(text: str) -> int:
    value = whole_number(text)
    if value == 0:
        raise ValueError(f"{text!r}: must be 1 or more")
    return value


def non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


def choice(*values: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in values:
            raise ValueError(f"{text!r} is not one of {', '.join(values)}")
        return text
    return parse


DEFAULT_NODE_HOST = "127.0.0.1"
DEFAULT_NODE_PORT = 42224  # where opctl's CLI looks for a node
DEFAULT_NODE_RETAIN_OPS = 1000  # ended root ops whose events and files a node keeps


def listen_address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or ``:PORT`` (on the default host)."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"listen address {text!r} is not HOST:PORT (e.g. 127.0.0.1:42224)")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host or DEFAULT_NODE_HOST, int(port_text)


# The node API versions the conformance suite has a profile for (conformance/profiles.py).
NODE_API_PROFILES = ("0.1.5",)
REF_TEMPLATE_FIELDS = ("path", "name", "dir")


def _profile(text: str) -> str:
    if text not in NODE_API_PROFILES:
        raise ValueError(f"unknown profile {text!r}; known: {', '.join(NODE_API_PROFILES)}")
    return text


def _ref_template(text: str) -> str:
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


def _level(text: str) -> str:
    return choice("must", "should", "may")(text.lower())


# -- the tables ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """One option: its pytest flag, env var, ini key and `opspec` flag, how to parse it, its default."""

    name: str
    help: str
    env: str
    parse: Callable[[str], Any] = str
    default: Any = None
    kind: Kind = Kind.VALUE
    metavar: str = ""
    pytest_flag: str = ""  # "" when the plugin does not read it
    ini: str = ""  # the plugin's ini key, also its argparse dest
    cli: str = ""  # the `opspec` subcommands' flag; without dashes a positional argument
    commands: tuple[str, ...] = ()  # the `opspec` subcommands that read it
    choices: tuple[str, ...] = ()  # shown by argparse (parse checks them)

    def named(self, source: Source, flag: str = "") -> str:
        """How a person finds where the value came from: the flag, ``env VAR`` or ``ini key``."""
        if source is Source.ENV:
            return f"env {self.env}"
        if source is Source.INI:
            return f"ini {self.ini}"
        return flag or self.pytest_flag or self.cli


PULL_POLICIES = ("always", "missing", "never")  # runtime.base.PullPolicy

PATHS = Option(
    "paths", "collect the op packages (directories with an op.yml) found at or below PATH: a validation test per "
    "package and one test per scenario in its scenarios.yml/scenarios.json (one PATH per flag; repeatable)",
    env="OPSPEC_PATHS", parse=Path, default=(), kind=Kind.PATHS, metavar="PATH", pytest_flag="--opspec",
    ini="opspec_paths")
NODE_URL = Option(
    "node_url", "run every op through the opspec node at URL instead of the bundled in-process executor",
    env="OPSPEC_NODE_URL", parse=http_url, metavar="URL", pytest_flag="--opspec-node-url", ini="opspec_node_url")
IMAGE_MAP = Option(
    "image_map", "run image REF as LOCAL, e.g. alpine:3.19=local/busybox:1 (repeatable; comma-separated in env and "
    "ini)", env="OPSPEC_IMAGE_MAP", parse=image_map_entry, default=(), kind=Kind.LIST, metavar="REF=LOCAL",
    pytest_flag="--opspec-image-map", ini="opspec_image_map", cli="--image-map", commands=("run", "node"))
PULL = Option(
    "pull", "when to pull images: always, missing (default) or never", env="OPSPEC_PULL",
    parse=choice(*PULL_POLICIES), default="missing", metavar="POLICY", pytest_flag="--opspec-pull",
    ini="opspec_pull", cli="--pull", commands=("run", "node"), choices=PULL_POLICIES)
TIMEOUT = Option(
    "timeout", "kill an op (scenario or op_runner run) that has not ended after SECONDS (default 600; `opspec run`: "
    "no limit)", env="OPSPEC_TIMEOUT", parse=positive_seconds, default=600.0, metavar="SECONDS",
    pytest_flag="--opspec-timeout", ini="opspec_timeout", cli="--timeout", commands=("run",))
KEEP_CONTAINERS = Option(
    "keep_containers", "leave finished containers in place for debugging (the next session's start-up sweep "
    "removes them)", env="OPSPEC_KEEP_CONTAINERS", parse=on_off, default=False, kind=Kind.SWITCH,
    pytest_flag="--opspec-keep-containers", ini="opspec_keep_containers", cli="--keep-containers",
    commands=("run", "node"))
SKIP_WITHOUT_ENGINE = Option(
    "skip_without_engine", "skip the tests that need a container engine (marker opspec_engine) when none answers, "
    "instead of reporting them as errors", env="OPSPEC_SKIP_WITHOUT_ENGINE", parse=on_off, default=False,
    kind=Kind.SWITCH, pytest_flag="--opspec-skip-without-engine", ini="opspec_skip_without_engine")
TTY = Option(
    "tty", "give containers a TTY, as the reference does (stderr then merges into stdout)", env="OPSPEC_TTY",
    parse=on_off, default=False, kind=Kind.SWITCH, cli="--tty", commands=("run", "node"))
NODE_LISTEN = Option(
    "listen", f"where to serve the node API (default {DEFAULT_NODE_HOST}:{DEFAULT_NODE_PORT}, where opctl's CLI "
    "looks)", env="OPSPEC_NODE_LISTEN", parse=listen_address, default=(DEFAULT_NODE_HOST, DEFAULT_NODE_PORT),
    metavar="HOST:PORT", cli="--listen", commands=("node",))
NODE_DATA_DIR = Option(
    "data_dir", "the event history and scratch files (default $XDG_DATA_HOME/pytest-opspec/node)",
    env="OPSPEC_NODE_DATA_DIR", parse=Path, metavar="DIR", cli="--data-dir", commands=("node",))
NODE_MAX_LAG = Option(
    "max_lag", "close an event-stream subscriber (code 1013) once it is this many events behind (default 200000)",
    env="OPSPEC_NODE_MAX_LAG", parse=positive_number, metavar="EVENTS", cli="--max-lag",
    commands=("node",))
NODE_RETAIN_OPS = Option(
    "retain_ops", "keep the events and scratch files (file and dir outputs) of the latest N ended root ops; older "
    f"ones are deleted (default {DEFAULT_NODE_RETAIN_OPS})", env="OPSPEC_NODE_RETAIN_OPS", parse=positive_number,
    metavar="N", cli="--retain-ops", commands=("node",))
NODE_OPCTL_LOCK = Option(
    "opctl_lock", "write $HOME/opctl/pid.lock so opctl's CLI uses this node instead of starting its own",
    env="OPSPEC_NODE_OPCTL_LOCK", parse=on_off, default=False, kind=Kind.SWITCH, cli="--opctl-lock",
    commands=("node",))
NODE_URL_FILE = Option(
    "url_file", "once serving, write the node's URL to FILE (one line), for programs that start the node",
    env="OPSPEC_NODE_URL_FILE", parse=Path, metavar="FILE", cli="--url-file", commands=("node",))
# Who may use the node (node/access.py); the server side of TLS.
NODE_TLS_CERT = Option(
    "tls_cert", "serve HTTPS with this certificate (with --tls-key)", env="OPSPEC_NODE_TLS_CERT", parse=Path,
    metavar="PEM", cli="--tls-cert", commands=("node",))
NODE_TLS_KEY = Option(
    "tls_key", "the private key of --tls-cert", env="OPSPEC_NODE_TLS_KEY", parse=Path, metavar="PEM",
    cli="--tls-key", commands=("node",))
NODE_TLS_CLIENT_CA = Option(
    "tls_client_ca", "require clients to present a certificate signed by this CA (mutual TLS; needed to listen on "
    "a non-loopback address)", env="OPSPEC_NODE_TLS_CLIENT_CA", parse=Path, metavar="PEM", cli="--tls-client-ca",
    commands=("node",))
NODE_ALLOW_ORIGIN = Option(
    "allow_origin", "let web pages of this origin (scheme://host[:port]) call the API; requests from other origins "
    "get 403 (repeatable)", env="OPSPEC_NODE_ALLOW_ORIGIN", parse=web_origin, default=(), kind=Kind.LIST,
    metavar="ORIGIN", cli="--allow-origin", commands=("node",))
NODE_ALLOW_HOST = Option(
    "allow_host", "accept requests for this Host name besides loopback names and the listen address; others get "
    "403, which stops DNS rebinding (repeatable)", env="OPSPEC_NODE_ALLOW_HOST", parse=non_empty, default=(),
    kind=Kind.LIST, metavar="HOST", cli="--allow-host", commands=("node",))
NODE_ALLOW_MOUNT = Option(
    "allow_mount", "dir, file and socket args may only name paths inside DIR (repeatable; default: any path the "
    "node's user can reach)", env="OPSPEC_NODE_ALLOW_MOUNT", parse=Path, default=(), kind=Kind.LIST,
    metavar="DIR", cli="--allow-mount", commands=("node",))
# The client side of TLS to a node (--opspec-node-url https://...).
NODE_CA = Option(
    "node_ca", "for an https:// --opspec-node-url: the CA that signed the node's certificate (default: the "
    "system's CAs)", env="OPSPEC_NODE_CA", parse=Path, metavar="PEM", pytest_flag="--opspec-node-ca",
    ini="opspec_node_ca")
NODE_CLIENT_CERT = Option(
    "node_client_cert", "for an https:// --opspec-node-url that requires client certificates (mutual TLS): the "
    "certificate to present", env="OPSPEC_NODE_CLIENT_CERT", parse=Path, metavar="PEM",
    pytest_flag="--opspec-node-client-cert", ini="opspec_node_client_cert")
NODE_CLIENT_KEY = Option(
    "node_client_key", "the private key of --opspec-node-client-cert", env="OPSPEC_NODE_CLIENT_KEY", parse=Path,
    metavar="PEM", pytest_flag="--opspec-node-client-key", ini="opspec_node_client_key")

PKG_CACHE = Option(
    "pkg_cache", "the cache of remote packages (host/path#tag), shared by sessions, xdist workers and nodes "
    "(default ~/.cache/opspec/pkgs; a node's: <data dir>/pkgs)", env="OPSPEC_PKG_CACHE",
    parse=lambda text: Path(text).expanduser().absolute(), metavar="DIR", pytest_flag="--opspec-pkg-cache",
    ini="opspec_pkg_cache", cli="--pkg-cache", commands=("run", "node", "validate", "pkg"))
OFFLINE = Option(
    "offline", "never fetch remote packages: use only mapped, vendored and cached ones", env="OPSPEC_OFFLINE",
    parse=on_off, default=False, kind=Kind.SWITCH, pytest_flag="--opspec-offline", ini="opspec_offline",
    cli="--offline", commands=("run", "validate"))
PKG_MAP = Option(
    "pkg_map", "use the package in DIR for REF (host/path#tag, or host/path for every version), e.g. to stub a "
    "dependency (repeatable; comma-separated in env and ini)", env="OPSPEC_PKG_MAP", parse=pkg_map_entry,
    default=(), kind=Kind.LIST, metavar="REF=DIR", pytest_flag="--opspec-pkg-map", ini="opspec_pkg_map",
    cli="--pkg-map", commands=("run", "validate"))


def _op_cache(text: str) -> Path | bool:
    return False if text.strip().lower() in _FALSE else Path(text).expanduser().absolute()


OP_CACHE = Option(
    "op_cache", "where op.yml files found valid are kept parsed, so that loading the same text again skips YAML "
    "parsing and the schema check (default ~/.cache/opspec/ops; off: no cache). Read by every op load, so it is "
    "set in the environment only", env="OPSPEC_OP_CACHE", parse=_op_cache, metavar="DIR|off")

# Limits for every container of every op run (a scenario's `limits` and op_runner's override them).
MEMORY = Option(
    "memory", "memory limit of every container, swap included, e.g. 64m or 1g (binary units; at least 6m)",
    env="OPSPEC_MEMORY", parse=parse_memory, metavar="SIZE", pytest_flag="--opspec-memory", ini="opspec_memory",
    cli="--memory", commands=("run", "node"))
CPUS = Option(
    "cpus", "cpu time of every container in cpus, e.g. 0.5 (at least 0.01)", env="OPSPEC_CPUS", parse=parse_cpus,
    metavar="CPUS", pytest_flag="--opspec-cpus", ini="opspec_cpus", cli="--cpus", commands=("run", "node"))
PIDS_LIMIT = Option(
    "pids_limit", "most processes and threads at once in every container (at least 1)", env="OPSPEC_PIDS_LIMIT",
    parse=parse_pids, metavar="N", pytest_flag="--opspec-pids-limit", ini="opspec_pids_limit", cli="--pids-limit",
    commands=("run", "node"))
NETWORK = Option(
    "network", "op: one network per root op, its containers reach each other by name (default); none: containers "
    "get no network at all", env="OPSPEC_NETWORK", parse=parse_network, metavar="op|none",
    pytest_flag="--opspec-network", ini="opspec_network", cli="--network", commands=("run", "node"))

OPTIONS: tuple[Option, ...] = (PATHS, NODE_URL, NODE_CA, NODE_CLIENT_CERT, NODE_CLIENT_KEY, IMAGE_MAP, PULL, TIMEOUT,
                               KEEP_CONTAINERS, SKIP_WITHOUT_ENGINE, TTY, MEMORY, CPUS, PIDS_LIMIT, NETWORK,
                               NODE_LISTEN, NODE_DATA_DIR, NODE_MAX_LAG, NODE_RETAIN_OPS, NODE_OPCTL_LOCK,
                               NODE_URL_FILE, NODE_TLS_CERT, NODE_TLS_KEY, NODE_TLS_CLIENT_CA, NODE_ALLOW_ORIGIN,
                               NODE_ALLOW_HOST, NODE_ALLOW_MOUNT, PKG_CACHE, OFFLINE, PKG_MAP,
                               OP_CACHE)


def limits_from(values: Mapping[str, Any]) -> Limits:
    """The limits among options read by name (``read_command_options``, the plugin's settings)."""
    return Limits(memory_bytes=values["memory"], cpus=values["cpus"], pids=values["pids_limit"],
                  network=values["network"])


def _conformance(name: str, flag: str, help: str, parse: Callable[[str], Any], metavar: str, *,
                 default: Any = None, kind: Kind = Kind.VALUE) -> Option:
    """A conformance option: `opspec conformance FLAG`, `pytest --opspec-conformance-FLAG`,
    OPSPEC_CONFORMANCE_NAME, ini opspec_conformance_name."""
    return Option(name, help, env=f"OPSPEC_CONFORMANCE_{name.upper()}", parse=parse, default=default, kind=kind,
                  metavar=metavar, cli=flag or name,
                  pytest_flag=f"--opspec-conformance-{flag.lstrip('-')}" if flag else "--opspec-conformance",
                  ini=f"opspec_conformance_{name}", commands=("conformance",))


CONFORMANCE_OPTIONS: tuple[Option, ...] = (
    _conformance("url", "", "the node to check (default: start the bundled node on a free loopback port and check "
                 "it)", http_url, "URL", kind=Kind.OPTIONAL),
    _conformance("profile", "--profile", f"the node API version to check against (default {NODE_API_PROFILES[0]}; "
                 f"known: {', '.join(NODE_API_PROFILES)})", _profile, "VERSION", default=NODE_API_PROFILES[0]),
    _conformance("pkg_dir", "--pkg-dir", "where to write the suite's op packages; the node must be able to read "
                 "them (default: a temporary directory, removed afterwards)", Path, "DIR"),
    _conformance("pkg_ref_template", "--pkg-ref-template", "how to name a package to the node: {path} is its local "
                 "path, {name} its name, {dir} the package dir (default {path})", _ref_template, "TEMPLATE",
                 default="{path}"),
    _conformance("image", "--image", "the image the suite's ops run (default opspec-test/busybox:1)", non_empty,
                 "IMAGE", default="opspec-test/busybox:1"),
    _conformance("engine", "--engine", "where to look for the node's containers after a kill: auto (the local "
                 "engine when the node runs on this host), none, or an engine URL such as "
                 "unix:///var/run/docker.sock", _engine, "auto|none|URL", default="auto"),
    _conformance("node_image", "--node-image", "start the node to check from IMAGE on the local engine (its port "
                 "published on loopback, the package dir mounted at the same path, removed afterwards); instead of "
                 "a URL", non_empty, "IMAGE"),
    _conformance("node_cmd", "--node-cmd", "the command of the --node-image container, split as a shell would "
                 "(default: the image's own)", command_words, "CMD", default=()),
    _conformance("node_port", "--node-port", f"the port the --node-image node serves on inside its container "
                 f"(default {DEFAULT_NODE_PORT})", port_number, "PORT", default=DEFAULT_NODE_PORT),
    _conformance("node_env", "--node-env", "an environment variable of the --node-image container (repeatable; no "
                 "commas)", env_assignment, "NAME=VALUE", default=(), kind=Kind.LIST),
    _conformance("node_volume", "--node-volume", "a volume of the --node-image container as docker run -v takes it, "
                 "e.g. /var/run/docker.sock:/var/run/docker.sock (repeatable)", volume_bind, "SRC:DST[:ro]",
                 default=(), kind=Kind.LIST),
    _conformance("node_ca", "--node-ca", "for an https:// node: the CA that signed its certificate (default: the "
                 "system's CAs)", Path, "PEM"),
    _conformance("client_cert", "--client-cert", "for an https:// node that requires client certificates (mutual "
                 "TLS): the certificate to present", Path, "PEM"),
    _conformance("client_key", "--client-key", "the private key of --client-cert", Path, "PEM"),
    _conformance("timeout", "--timeout", "seconds to wait for any one answer, event or op end (default 30)",
                 positive_seconds, "SECONDS", default=30.0),
    _conformance("select", "--select", "run only the checks whose id matches PATTERN (fnmatch, e.g. 'pkgs.*'; "
                 "repeatable)", non_empty, "PATTERN", default=(), kind=Kind.LIST),
    _conformance("disable", "--disable", "turn off check CHECK_ID, or the checks an fnmatch pattern matches "
                 "(reported as Disabled; repeatable)", non_empty, "CHECK_ID", default=(), kind=Kind.LIST),
    _conformance("fail_on", "--fail-on", "the lowest level whose failures make the exit status non-zero: must "
                 "(default), should or may; errors always do", _level, "LEVEL", default="must"),
    _conformance("fuzz_examples", "--fuzz-examples", "requests per negative-fuzzing check (default 50; 0 disables "
                 "them)", whole_number, "N", default=50),
    _conformance("junit_xml", "--junit-xml", "write a JUnit XML report to FILE", Path, "FILE"),
    _conformance("report_json", "--report-json", "write the machine-readable result (JSON) to FILE", Path, "FILE"),
    _conformance("report_html", "--report-html", "write a self-contained HTML report to FILE", Path, "FILE"),
)


# -- reading -------------------------------------------------------------------------------------------

def resolve(option: Option, *, flag: Any = None, flag_name: str = "", ini: Any = None,
            environ: Mapping[str, str] | None = None) -> tuple[Any, Source]:
    """The option's value and where it came from: ``flag`` (as argparse gives it; None or [] when absent)
    > its env var > ``ini`` (as pytest gives it) > its default. Raises OptionError naming the source."""
    environ = os.environ if environ is None else environ
    env = environ.get(option.env, "")
    if flag not in (None, [], "", False):
        raw, source = flag, Source.CLI
    elif env.strip():
        raw, source = env.strip(), Source.ENV
    elif ini not in (None, [], ""):
        raw, source = ini, Source.INI
    else:
        return option.default, Source.DEFAULT
    try:
        return _parse(option, raw, source), source
    except ValueError as error:
        raise OptionError(f"{option.named(source, flag_name)}: {error}") from None


def _parse(option: Option, raw: Any, source: Source) -> Any:
    if option.kind is Kind.SWITCH:
        return raw if isinstance(raw, bool) else option.parse(str(raw))
    if option.kind is Kind.PATHS:
        if source is Source.ENV:
            return tuple(option.parse(item) for item in raw.split(os.pathsep) if item)
        return tuple(option.parse(str(item)) for item in raw)  # ini paths are already relative to the ini file
    if option.kind is Kind.LIST:
        items = [raw] if isinstance(raw, str) else list(raw)
        return tuple(option.parse(part.strip()) for item in items for part in str(item).split(",") if part.strip())
    return option.parse(str(raw).strip())


def add_command_options(parser: argparse.ArgumentParser, command: str,
                        options: Iterable[Option] = OPTIONS) -> None:
    """Add the flags of every option `opspec COMMAND` reads (read them back with ``read_command_options``)."""
    for option in options:
        if command not in option.commands:
            continue
        help_text = f"{option.help} (env {option.env})"
        if not option.cli.startswith("-"):
            parser.add_argument(option.name, nargs="?", metavar=option.metavar, help=help_text)
        elif option.kind is Kind.SWITCH:
            parser.add_argument(option.cli, dest=option.name, action="store_true", default=None, help=help_text)
        elif option.kind in (Kind.LIST, Kind.PATHS):
            parser.add_argument(option.cli, dest=option.name, action="append", metavar=option.metavar,
                                help=help_text)
        else:
            parser.add_argument(option.cli, dest=option.name, metavar=option.metavar,
                                choices=option.choices or None, help=help_text)


def read_command_options(args: argparse.Namespace, command: str, options: Iterable[Option] = OPTIONS, *,
                         defaults: Mapping[str, Any] | None = None,
                         environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every option of `opspec COMMAND` by name: its flag > its env var > ``defaults`` (the command's own,
    where they differ from the table's) > its default. Raises OptionError."""
    values = {}
    for option in options:
        if command not in option.commands:
            continue
        flag_name = option.cli if option.cli.startswith("-") else option.metavar
        value, source = resolve(option, flag=getattr(args, option.name, None), flag_name=flag_name, environ=environ)
        values[option.name] = (defaults or {}).get(option.name, value) if source is Source.DEFAULT else value
    return values
