"""`opspec run`: run an op package in local Docker containers, streaming their output."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Mapping

from ..backends.runtime import make_runtime
from ..errors import OpspecError
from ..executor.executor import Executor, resolve_root
from ..executor.result import RunResult
from ..executor.runner import OpRunner
from ..model import Param, load_op
from ..model.args import ArgError, document_arg, parse_text_arg
from ..model.problems import InvalidOpError
from ..options import add_command_options, limits_from, read_command_options
from ..pkgs.resolve import PackageResolver
from ..pkgs.refs import is_remote_ref
from ..reporting.console import EventPrinter, format_value
from ..values import Value, ValueType
from ..values.secrets import placeholder
from .common import EXIT_FAILED, EXIT_OK, UsageError, package_options


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; the op is being stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pkg", metavar="PKG",
                        help="the op package: a directory with an op.yml (a relative name is also looked up "
                             "in ./.opspec/), or a remote package host/path#tag")
    parser.add_argument("-a", "--arg", dest="args", action="append", default=[], metavar="NAME=VALUE",
                        help="an input value; numbers, JSON objects/arrays and dir/file paths are typed by the "
                             "op's declared input (repeatable)")
    parser.add_argument("--args-file", metavar="FILE",
                        help="a YAML or JSON file mapping input names to values (plain, or typed as {string: x})")
    add_command_options(parser, "run")
    parser.add_argument("--output-dir", metavar="DIR",
                        help="keep the op's file and dir outputs: copy each to DIR/<output name> (printed paths "
                             "point there); without it they are removed when the command ends")
    parser.add_argument("--format", choices=("human", "json"), default="human",
                        help="how to print the outputs at the end (default: human)")


def _read_args_file(path: str) -> dict[str, object]:
    from ..model.yaml12 import load_yaml_file  # here: without --args-file a cached op needs no YAML parser

    try:
        document = load_yaml_file(Path(path)).data  # bounded: 1 MB, text only
    except InvalidOpError as error:
        raise UsageError("--args-file " + "; ".join(problem.format() for problem in error.problems)) from None
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


def run(args: argparse.Namespace) -> int:
    cwd = Path.cwd()
    options = read_command_options(args, "run", defaults={"timeout": None})  # no time limit unless asked for
    timeout = options["timeout"]

    packages = PackageResolver(package_options(options))
    try:
        root = resolve_root(packages, args.pkg, cwd)
    except OpspecError as error:
        if is_remote_ref(args.pkg):  # a fetch that failed is no mistake on the command line
            raise
        raise UsageError(f"PKG {args.pkg!r}: {error}") from None
    op = load_op(root.package.manifest)
    try:
        values = _collect_args(args, op.inputs, cwd)
    except ArgError as error:
        raise UsageError(str(error)) from None
    secret_outputs = {name for name, param in op.outputs.items() if param.is_secret}

    def on_signal(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    runtime = make_runtime(image_map=dict(options["image_map"]), pull_policy=options["pull"],
                           keep_containers=options["keep_containers"])
    executor = Executor(runtime, tty=options["tty"], keep_containers=options["keep_containers"], close_runtime=True,
                        packages=packages, default_limits=limits_from(options))
    try:
        runner = OpRunner(executor, cwd=cwd)
        holder: list[str] = []

        def mask(text: str) -> str:
            root = executor.root(holder[0]) if holder else None
            return root.run.secrets.mask(text) if root is not None and root.run is not None else text

        printer = EventPrinter(sys.stderr if args.format == "json" else sys.stdout, mask=mask)
        executor.bus.subscribe(printer)
        running = runner.start(root, values)
        holder.append(running.id)
        try:
            result = running.finish(timeout)
            if args.output_dir:  # before the executor's clean-up removes the run's scratch files
                result.values = keep_outputs(result.values, Path(args.output_dir))
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


def keep_outputs(values: Mapping[str, Value], directory: Path) -> dict[str, Value]:
    """``values`` with each file and dir output copied to ``directory/<name>`` (and pointing there)."""
    import shutil  # here: only --output-dir needs it

    kept: dict[str, Value] = {}
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in values.items():
        if value.type not in (ValueType.FILE, ValueType.DIR):
            kept[name] = value
            continue
        target = directory / name
        try:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            if value.type is ValueType.DIR:
                shutil.copytree(value.data, target, symlinks=True)
            else:
                shutil.copy2(value.data, target)
        except OSError as error:
            raise OpspecError(f"--output-dir: cannot keep output {name!r} at {target}: "
                              f"{error.strerror or error}") from None
        kept[name] = Value(value.type, str(target.resolve()))
    return kept


def _print_result(result: RunResult, secret_outputs: set[str], output_format: str, timeout: float | None) -> None:
    if output_format == "json":
        outputs = {name: ({value.type.value: placeholder(name)} if name in secret_outputs
                          else result.secrets.mask_data(value.to_json()))
                   for name, value in result.values.items()}
        json.dump({"opId": result.op_id, "outcome": result.outcome.value if result.outcome else None,
                   "error": result.mask(result.error) if result.error else None, "outputs": outputs,
                   "packages": [package.to_json() for package in result.packages],
                   "containers": [container.to_json() for container in result.containers]},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if result.timed_out:
        print(f"opspec: the op did not end within {timeout:g} s and was killed", file=sys.stderr)
    if result.containers:
        print("containers:")
        for container in result.containers:
            print(f"  {container.id} ({container.image_ref}) {result.mask(container.describe())}")
    if not result.succeeded:
        for line in result.package_lines():  # which exact packages the failed run used
            print(line, file=sys.stderr)
    if result.values:
        print("outputs:")
        for name, value in sorted(result.values.items()):
            print(f"  {name}: {result.mask(format_value(value, secret=name if name in secret_outputs else None))}")
