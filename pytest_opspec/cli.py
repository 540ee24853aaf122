"""The ``opspec`` command line: one function per subcommand, registered in COMMANDS.

Exit codes: 0 success, 1 failure (e.g. an invalid op), 2 usage error. User errors print one
clear message to stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from . import OPSPEC_VERSION, __version__
from .errors import OpspecError
from .events.broker import DEFAULT_MAX_LAG
from .model import OpCache, ValidationReport, validate_package
from .console import EventPrinter, format_value
from .executor import Executor, OpRunner, RunResult
from .executor.args import document_arg, parse_text_arg
from .model import Param, load_op
from .model.render import render_report, summary_line
from .model.yaml12 import parse_yaml
from .parsing import positive_seconds
from .pkgs import resolve
from .pkgs.discover import find_packages
from .runtime.base import PullPolicy, parse_image_map
from .values import Value

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(OpspecError):
    """The command line itself is wrong (exit 2)."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


Runner = Callable[[argparse.Namespace], int]


def command(name: str, summary: str,
            configure: Callable[[argparse.ArgumentParser], None]) -> Callable[[Runner], Runner]:
    """Register the decorated function as subcommand ``name``."""
    def register(run: Runner) -> Runner:
        COMMANDS[name] = Command(name, summary, configure, run)
        return run
    return register


# -- validate -----------------------------------------------------------------------------------

def _configure_validate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="an op package (a directory with an op.yml), its op.yml, or a tree to search")
    parser.add_argument("--format", choices=("human", "json"), default="human",
                        help="output format (default: human)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only invalid packages and their errors, no warnings")


@command("validate", "validate op packages (YAML 1.2, the op.yml schema and static checks)", _configure_validate)
def validate(args: argparse.Namespace) -> int:
    try:
        packages = find_packages(args.paths)
    except OSError as error:
        raise UsageError(str(error)) from None
    cache = OpCache()
    reports = [validate_package(package, cache) for package in packages]
    invalid = [report for report in reports if not report.ok]
    if args.format == "json":
        json.dump({"valid": bool(reports) and not invalid,
                   "summary": _summary(reports),
                   "packages": [report.to_json() for report in reports]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for report in reports:
            if args.quiet and report.ok:
                continue
            body = render_report(report, snippets=False, warnings=not args.quiet)
            print(f"{body}\n{summary_line(report)}" if body else summary_line(report))
        print(_summary_text(reports, args.paths))
    return EXIT_OK if reports and not invalid else EXIT_FAILED


def _summary(reports: list[ValidationReport]) -> dict[str, int]:
    return {
        "packages": len(reports),
        "valid": sum(1 for r in reports if r.ok),
        "invalid": sum(1 for r in reports if not r.ok),
        "errors": sum(len(r.errors) for r in reports),
        "warnings": sum(len(r.warnings) for r in reports),
    }


def _summary_text(reports: list[ValidationReport], paths: Sequence[str]) -> str:
    if not reports:
        return f"no op packages (directories with an op.yml) found in {', '.join(paths)}"
    s = _summary(reports)
    return (f"{s['packages']} package{'s' if s['packages'] != 1 else ''}: {s['valid']} valid, "
            f"{s['invalid']} invalid ({s['errors']} errors, {s['warnings']} warnings)")


# -- run ----------------------------------------------------------------------------------------

class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; the op is being stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum


def _configure_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pkg", metavar="PKG",
                        help="the op package: a directory with an op.yml (a relative name is also looked up "
                             "in ./.opspec/)")
    parser.add_argument("-a", "--arg", dest="args", action="append", default=[], metavar="NAME=VALUE",
                        help="an input value; numbers, JSON objects/arrays and dir/file paths are typed by the "
                             "op's declared input (repeatable)")
    parser.add_argument("--args-file", metavar="FILE",
                        help="a YAML or JSON file mapping input names to values (plain, or typed as {string: x})")
    _add_container_arguments(parser)
    parser.add_argument("--timeout", default=None, metavar="SECONDS",
                        help="kill the op after this many seconds (env OPSPEC_TIMEOUT)")
    parser.add_argument("--format", choices=("human", "json"), default="human",
                        help="how to print the outputs at the end (default: human)")


def _add_container_arguments(parser: argparse.ArgumentParser) -> None:
    """How containers run; shared by `run` and `node` (read back with _container_options)."""
    parser.add_argument("--image-map", action="append", default=None, metavar="REF=LOCAL",
                        help="run image REF as LOCAL, e.g. alpine:3.6=local/busybox:1 (repeatable; "
                             "env OPSPEC_IMAGE_MAP, comma-separated)")
    parser.add_argument("--pull", choices=[p.value for p in PullPolicy], default=None,
                        help="when to pull images: always, missing (default) or never (env OPSPEC_PULL)")
    parser.add_argument("--tty", action="store_true",
                        help="give containers a TTY, as the reference does (stderr then merges into stdout)")
    parser.add_argument("--keep-containers", action="store_true",
                        help="leave finished containers in place for debugging (env OPSPEC_KEEP_CONTAINERS=1)")


def _setting(flag_value: object, env: str, default: object = None) -> object:
    if flag_value not in (None, False):
        return flag_value
    return os.environ.get(env) or default


@dataclass(frozen=True)
class ContainerOptions:
    image_map: dict[str, str]
    pull_policy: PullPolicy
    tty: bool
    keep_containers: bool


def _container_options(args: argparse.Namespace) -> ContainerOptions:
    image_map = parse_image_map(args.image_map if args.image_map else os.environ.get("OPSPEC_IMAGE_MAP", ""))
    pull = str(_setting(args.pull, "OPSPEC_PULL", PullPolicy.MISSING.value))
    if pull not in {p.value for p in PullPolicy}:
        raise UsageError(f"OPSPEC_PULL={pull!r}: expected always, missing or never")
    keep = bool(args.keep_containers or os.environ.get("OPSPEC_KEEP_CONTAINERS") in ("1", "true", "yes"))
    return ContainerOptions(image_map, PullPolicy(pull), bool(args.tty), keep)


def _read_args_file(path: str) -> dict[str, object]:
    try:
        document = parse_yaml(Path(path).read_text(encoding="utf-8"), Path(path)).data
    except OSError as error:
        raise UsageError(f"--args-file {path}: {error.strerror}") from None
    except OpspecError as error:
        raise UsageError(f"--args-file {error}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise UsageError(f"--args-file {path}: must map input names to values")
    return document


def _collect_args(args: argparse.Namespace, params: Mapping[str, Param], cwd: Path) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for name, raw in _read_args_file(args.args_file).items() if args.args_file else ():
        param = params.get(name)
        if isinstance(raw, str):
            values[name] = parse_text_arg(name, raw, param, cwd)
        else:
            values[name] = document_arg(name, raw, param, cwd, f"--args-file {name}")
    for item in args.args:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise UsageError(f"-a {item!r}: expected NAME=VALUE")
        values[name] = parse_text_arg(name, text, params.get(name), cwd)
    return values


@command("run", "run an op package in local Docker containers, streaming their output", _configure_run)
def run(args: argparse.Namespace) -> int:
    cwd = Path.cwd()
    options = _container_options(args)
    timeout_text = _setting(args.timeout, "OPSPEC_TIMEOUT")
    try:
        timeout = positive_seconds(str(timeout_text)) if timeout_text is not None else None
    except ValueError as error:
        raise UsageError(f"{'--timeout' if args.timeout is not None else 'env OPSPEC_TIMEOUT'}: {error}") from None

    package = resolve(args.pkg, lookup_dirs=[cwd])
    op = load_op(package.manifest)
    values = _collect_args(args, op.inputs, cwd)
    secret_outputs = {name for name, param in op.outputs.items() if param.is_secret}

    def on_signal(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    executor = Executor(image_map=options.image_map, pull_policy=options.pull_policy, tty=options.tty,
                        keep_containers=options.keep_containers)
    try:
        runner = OpRunner(executor, cwd=cwd)
        holder: list[str] = []

        def secrets() -> Iterable[str]:
            root = executor.root(holder[0]) if holder else None
            return root.run.secret_values if root is not None and root.run is not None else ()

        printer = EventPrinter(sys.stderr if args.format == "json" else sys.stdout, secrets=secrets)
        executor.bus.subscribe(printer)
        running = runner.start(package.ref, values)
        holder.append(running.id)
        try:
            result = running.wait(timeout)
        except Interrupted as interrupt:
            for sig in previous:  # a second Ctrl-C must not cut the clean-up short
                signal.signal(sig, signal.SIG_IGN)
            print("opspec: interrupted; stopping the op and removing its containers", file=sys.stderr)
            running.kill()
            return interrupt.exit_code
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        executor.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _print_result(result, secret_outputs, args.format, timeout)
    return EXIT_OK if result.succeeded else EXIT_FAILED


def _print_result(result: RunResult, secret_outputs: set[str], output_format: str, timeout: float | None) -> None:
    if output_format == "json":
        outputs = {name: ({value.type.value: "***"} if name in secret_outputs else value.to_json())
                   for name, value in result.values.items()}
        json.dump({"opId": result.op_id, "outcome": result.outcome.value if result.outcome else None,
                   "error": result.mask(result.error) if result.error else None, "outputs": outputs},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if result.timed_out:
        print(f"opspec: the op did not end within {timeout:g} s and was killed", file=sys.stderr)
    if result.values:
        print("outputs:")
        for name, value in sorted(result.values.items()):
            print(f"  {name}: {result.mask(format_value(value, secret=name in secret_outputs))}")


# -- node ---------------------------------------------------------------------------------------

def _configure_node(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", metavar="HOST:PORT", default=None,
                        help="where to serve the node API (default 127.0.0.1:42224, where opctl's CLI looks; "
                             "env OPSPEC_NODE_LISTEN)")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="the event history and scratch files (default $XDG_DATA_HOME/pytest-opspec/node; "
                             "env OPSPEC_NODE_DATA_DIR)")
    parser.add_argument("--max-lag", type=int, default=None, metavar="EVENTS",
                        help="close an event-stream subscriber (code 1013) once it is this many events behind "
                             f"(default {DEFAULT_MAX_LAG}; env OPSPEC_NODE_MAX_LAG)")
    parser.add_argument("--watch-pid", type=int, default=None, metavar="PID",
                        help="stop (cleanly) when process PID exits, e.g. the test session that started this node")
    parser.add_argument("--opctl-lock", action="store_true",
                        help="write $HOME/opctl/pid.lock so opctl's CLI uses this node instead of starting its own "
                             "(env OPSPEC_NODE_OPCTL_LOCK=1)")
    _add_container_arguments(parser)


@command("node", "serve the opspec node API (HTTP + WebSocket), running ops in local Docker containers",
         _configure_node)
def node(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from .node import Node, NodeServer, NodeSettings, default_data_dir, parse_listen, serve
    from .node.opctl_lock import OpctlLock

    listen = str(_setting(args.listen, "OPSPEC_NODE_LISTEN", "127.0.0.1:42224"))
    try:
        host, port = parse_listen(listen)
    except ValueError as error:
        raise UsageError(str(error)) from None
    data_dir = Path(str(_setting(args.data_dir, "OPSPEC_NODE_DATA_DIR") or default_data_dir()))
    max_lag_text = _setting(args.max_lag, "OPSPEC_NODE_MAX_LAG", DEFAULT_MAX_LAG)
    try:
        max_lag = int(str(max_lag_text))
    except ValueError:
        raise UsageError(f"OPSPEC_NODE_MAX_LAG={max_lag_text!r} is not a number of events") from None
    options = _container_options(args)
    settings = NodeSettings(data_dir=data_dir, image_map=options.image_map, pull_policy=options.pull_policy,
                            tty=options.tty, keep_containers=options.keep_containers, max_lag=max_lag)
    opctl_lock = OpctlLock() if (args.opctl_lock or os.environ.get("OPSPEC_NODE_OPCTL_LOCK") in ("1", "true", "yes")) \
        else None
    logging.basicConfig(level=logging.INFO, format="opspec node: %(message)s", stream=sys.stderr)
    server = NodeServer(Node(settings), host, port)

    def ready(server: NodeServer) -> None:
        print(f"opspec node: serving the node API on {server.url} (data dir {data_dir}); "
              "SIGTERM or Ctrl-C stops it", file=sys.stderr, flush=True)
        if opctl_lock is not None and opctl_lock.acquire():
            print(f"opspec node: wrote {opctl_lock.path} for opctl's CLI", file=sys.stderr, flush=True)

    try:
        asyncio.run(serve(server, ready, watch_pid=args.watch_pid))
    finally:
        if opctl_lock is not None:
            opctl_lock.release()
    print("opspec node: stopped", file=sys.stderr, flush=True)
    return EXIT_OK


# -- conformance --------------------------------------------------------------------------------

def _configure_conformance(parser: argparse.ArgumentParser) -> None:
    from conformance.cli import configure

    configure(parser)


@command("conformance", "check a node against the opspec node API, with a report (default: the bundled node)",
         _configure_conformance)
def conformance(args: argparse.Namespace) -> int:
    from conformance.cli import run as run_conformance
    from conformance.config import ConfigError

    try:
        return run_conformance(args)
    except ConfigError as error:
        raise UsageError(str(error)) from None


# -- entry point --------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opspec", description=f"Tools for opspec {OPSPEC_VERSION} op packages.")
    parser.add_argument("--version", action="version",
                        version=f"opspec (pytest-opspec) {__version__}, opspec spec {OPSPEC_VERSION}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        sub = subparsers.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.configure(sub)
        sub.set_defaults(run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage message on bad arguments
    try:
        return int(args.run(args))
    except UsageError as error:
        parser.error(str(error))  # exits 2
    except OpspecError as error:
        print(f"opspec: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing left to say
        return EXIT_FAILED
    return EXIT_FAILED  # not reached: parser.error exits


if __name__ == "__main__":
    sys.exit(main())
