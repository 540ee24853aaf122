"""Scenario files beside an op.yml: loading, validation with file:line errors, args and output matching.

A package's ``scenarios.yml`` or ``scenarios.json`` is a list of scenarios in opctl's language-agnostic
test-suite format, ``{name?, call | interpret | validate: {expect: success | failure, scope?}}``, plus
pytest-opspec's optional extensions (``outputs``, ``snapshot``, ``timeout``, ``skip``, ``xfail``).
``schemas/scenarios.schema.json`` is the format; files are read with the project's YAML 1.2 loader
(JSON is YAML 1.2) so every problem names its line and column.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from ..errors import OpspecError
from ..limits import NO_LIMITS, LimitError, Limits, format_bytes, parse_size
from .args import document_arg, is_value_document
from . import InvalidOpError, Param, Position, Problem, json_pointer
from .problems import sort_problems
from .schema import did_you_mean
from .types import nearest_position
from .document import read_op_text
from .yaml12 import parse_yaml
from ..resources import load_json_schema
from .schema_check import Check, compile_schema
from ..values import Value, ValueType
from ..matchers import MatcherDocumentError, matcher_from_document

if TYPE_CHECKING:
    from jsonschema import Draft7Validator

SCENARIO_FILES = ("scenarios.yml", "scenarios.json")
SCHEMA_NAME = "scenarios.schema.json"
_COMMENT_OR_BLANK = re.compile(r"(?m)^\s*#.*$")


class Kind(StrEnum):
    CALL = "call"
    INTERPRET = "interpret"
    VALIDATE = "validate"


class Expect(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


class ScenarioFileError(OpspecError):
    """A scenario file that cannot be used; str() lists every problem as ``file:line:col: path: message``."""

    def __init__(self, file: Path, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        count = len(problems)
        lines = [f"{file}: invalid scenario file ({count} error{'s' if count != 1 else ''})"]
        lines += [problem.format() for problem in problems]
        super().__init__("\n".join(lines))

    def relative_to(self, base: Path) -> ScenarioFileError:
        """The same error with file paths shown relative to ``base`` when they are below it."""
        def shown(path: Path) -> Path:
            return path.relative_to(base) if path.is_absolute() and path.is_relative_to(base) else path

        return ScenarioFileError(shown(self.file), [replace(p, file=shown(p.file)) for p in self.problems])


class ScopeError(OpspecError):
    """A scope value that is not a valid arg (e.g. ``{string: null}``); names its file and line.

    The scope is the args of the call, so like any invalid arg it makes the call or interpretation fail.
    """


@dataclass(frozen=True)
class Scenario:
    """One scenario of a scenario file."""

    kind: Kind
    expect: Expect
    file: Path
    index: int  # position in the file's list
    name: str | None = None
    scope: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, Any] | None = None
    snapshot: bool = False
    timeout: float | None = None
    limits: Limits = NO_LIMITS
    skip: str | None = None  # the reason, when skipped
    xfail: str | None = None  # the reason, when expected to fail
    op_ref: str | None = None
    error: str | None = None  # with expect: failure, a regex the op's error must contain
    containers: Sequence[Mapping[str, Any]] | None = None  # expectations per container, in start order
    # Pointer -> position for the whole file, to name the line of any part of this scenario.
    positions: Mapping[str, Position] = field(default_factory=dict, repr=False, compare=False)

    @property
    def pkg_dir(self) -> Path:
        return self.file.parent

    def position(self, *location: str | int) -> Position | None:
        """Where a part of this scenario is written (``"call", "scope", "x"``), or the nearest enclosing part."""
        return nearest_position(self.positions, json_pointer((self.index, *location)))

    def where(self, *location: str | int, relative_to: Path | None = None) -> str:
        """``file:line:col`` of a part of this scenario (the file relative to ``relative_to`` when below it)."""
        file = self.file
        if relative_to is not None and file.is_relative_to(relative_to):
            file = file.relative_to(relative_to)
        position = self.position(*location)
        return f"{file}:{position.line}:{position.column}" if position else str(file)

    @property
    def label(self) -> str:
        """How reports name it: ``call "less than minimum"`` or ``call #2``."""
        return f'{self.kind} "{self.name}"' if self.name else f"{self.kind} #{self.index}"


def find_scenario_file(pkg_dir: Path) -> Path | None:
    """The package's scenario file, or None. Having both names is an error (which one would count?)."""
    found = [pkg_dir / name for name in SCENARIO_FILES if (pkg_dir / name).is_file()]
    if len(found) > 1:
        raise ScenarioFileError(found[0], [Problem(found[0], f"both {' and '.join(SCENARIO_FILES)} exist in "
                                                              f"{pkg_dir}; keep one", check="scenarios")])
    return found[0] if found else None


@cache
def _is_valid() -> Check:
    return compile_schema(load_json_schema(SCHEMA_NAME), draft=7)


@cache
def _validator() -> Draft7Validator:
    """jsonschema's validator, which explains an invalid file (imported on first use: it costs more
    than the rest of a `pytest --opspec` start-up)."""
    from jsonschema import Draft7Validator

    return Draft7Validator(load_json_schema(SCHEMA_NAME))


def load_scenarios(file: Path) -> list[Scenario]:
    """Every scenario of ``file``; raises ScenarioFileError listing every problem with its line."""
    try:
        text = read_op_text(file)
        if not _COMMENT_OR_BLANK.sub("", text).strip():
            raise ScenarioFileError(file, [Problem(file, "the file is empty; expected a list of scenarios",
                                                   check="scenarios")])
        document = parse_yaml(text, file)
    except InvalidOpError as error:
        raise ScenarioFileError(file, error.problems) from None
    data = document.data
    problems = []
    for location, message, at_key in _schema_errors(data):
        pointer = json_pointer(location)
        position = (document.key_positions.get(pointer) if at_key else None) or nearest_position(
            document.positions, pointer)
        problems.append(Problem(file, message, location, position, check="scenarios"))
    for location, message in _extension_errors(data):
        problems.append(Problem(file, message, location, nearest_position(document.positions, json_pointer(location)),
                                check="scenarios"))
    if problems:
        raise ScenarioFileError(file, sort_problems(problems))
    scenarios = []
    for index, item in enumerate(data):
        try:
            scenarios.append(_scenario(file, index, item, document.positions))
        except LimitError as error:
            location = (index, Kind.CALL.value, "limits", error.key)
            problems.append(Problem(file, error.reason, location, nearest_position(document.positions,
                                                                                 json_pointer(location)),
                                    check="scenarios"))
    if problems:
        raise ScenarioFileError(file, problems)
    return scenarios


def _extension_errors(data: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """What the schema cannot say: matchers that are no matchers, an `error` regex that does not compile or
    comes with `expect: success`."""
    if not isinstance(data, list):
        return
    for index, item in enumerate(data):
        body = item.get("call") if isinstance(item, dict) else None
        if not isinstance(body, dict):
            continue
        at = (index, "call")
        error = body.get("error")
        if isinstance(error, str):
            if body.get("expect") == "success":
                yield (*at, "error"), "'error' says why the op must fail; it needs expect: failure"
            try:
                re.compile(error)
            except re.error as problem:
                yield (*at, "error"), f"invalid regular expression {error!r}: {problem}"
        for key in ("outputs", "containers"):
            yield from _matcher_errors(body.get(key), (*at, key))
        for position, wanted in enumerate(body.get("containers") or ()):
            for key, (parse, _attribute, _shown) in CONTAINER_MAXIMA.items():
                if isinstance(wanted, dict) and key in wanted:
                    try:
                        parse(wanted[key])
                    except ValueError as problem:
                        yield (*at, "containers", position, key), str(problem)


def _matcher_errors(value: Any, location: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    try:
        if matcher_from_document(value) is not None:
            return
    except MatcherDocumentError as error:
        yield location, str(error)
        return
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _matcher_errors(child, (*location, key))


def _schema_errors(data: Any) -> Iterator[tuple[tuple[str | int, ...], str, bool]]:
    """(location, message, whether it is about the key at location) for every schema error."""
    if _is_valid()(data):
        return
    for error in _validator().iter_errors(data):
        location = tuple(error.absolute_path)
        if error.validator == "oneOf" and isinstance(error.instance, dict):
            kinds = [kind.value for kind in Kind if kind.value in error.instance]
            found = f"it has {' and '.join(map(repr, kinds))}" if kinds else "it has none"
            yield location, f"a scenario needs exactly one of 'call', 'interpret' or 'validate'; {found}", False
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(allowed), key=str):
                yield ((*location, key), f"unknown key {key!r}{did_you_mean(key, allowed)}; "
                                         f"expected one of {', '.join(map(repr, allowed))}", True)
        elif error.validator == "type" and not location:
            yield location, f"a scenario file holds a list of scenarios, not {_kind(error.instance)}", False
        else:
            yield location, error.message, False


def _kind(value: Any) -> str:
    return "a mapping" if isinstance(value, dict) else f"a {type(value).__name__}"


def _reason(value: Any) -> str | None:
    if value is True:
        return ""
    if isinstance(value, str):
        return value
    return None


def _scenario(file: Path, index: int, item: dict[str, Any], positions: Mapping[str, Position]) -> Scenario:
    kind = next(kind for kind in Kind if kind.value in item)
    body = item[kind.value]
    skip = _reason(body.get("skip"))
    if body.get("authAddGithub") and skip is None:
        skip = "needs GitHub credentials added to the node (opctl's authAddGithub); pytest-opspec has none"
    return Scenario(
        kind=kind, expect=Expect(body["expect"]), file=file, index=index, name=item.get("name"),
        scope=body.get("scope") or {}, outputs=body.get("outputs"), snapshot=bool(body.get("snapshot")),
        timeout=body.get("timeout"), limits=Limits.parse(body.get("limits") or {}), skip=skip,
        xfail=_reason(body.get("xfail")), op_ref=body.get("opRef"), error=body.get("error"),
        containers=body.get("containers"), positions=positions,
    )


def scenario_ids(scenarios: list[Scenario]) -> list[str]:
    """Test ids, unique within the package: ``call[<name>]``, or ``call[<index among calls>]`` when unnamed.

    A repeated id gets `` (2)``, `` (3)``...; ``::`` in a name would split the node id, so it is softened.
    """
    ids: list[str] = []
    seen: dict[str, int] = {}
    per_kind: dict[Kind, int] = {}
    for scenario in scenarios:
        number = per_kind.get(scenario.kind, 0)
        per_kind[scenario.kind] = number + 1
        label = scenario.name.replace("::", ": ") if scenario.name else str(number)
        base = f"{scenario.kind}[{label}]"
        count = seen.get(base, 0) + 1
        seen[base] = count
        ids.append(base if count == 1 else f"{scenario.kind}[{label} ({count})]")
    return ids


def scope_args(scenario: Scenario, params: Mapping[str, Param], shown_from: Path | None = None) -> dict[str, Value]:
    """The scenario's scope as typed args: API Values as they are, plain values typed by their input.

    Relative dir/file paths are taken relative to the scenario file's directory. Errors name the file
    relative to ``shown_from`` when it is below it.
    """
    args: dict[str, Value] = {}
    for name, raw in scenario.scope.items():
        where = f"{scenario.where(scenario.kind.value, 'scope', name, relative_to=shown_from)}: scope.{name}"
        try:
            args[name] = document_arg(name, raw, params.get(name), scenario.pkg_dir, where)
        except OpspecError as error:
            message = str(error)
            raise ScopeError(message if message.startswith(where) else f"{where}: {message}") from None
    return args


# -- expected outputs -----------------------------------------------------------------------------

def output_mismatches(expected: Mapping[str, Any], values: Mapping[str, Value],
                      declared: Mapping[str, Param]) -> list[str]:
    """How the op's outputs differ from the expected ones (partial match); [] when they match.

    Only the listed outputs are compared, and of objects only the listed keys. An expected value may be
    a typed API Value of the output's type. A file output compares its text; a dir output compares a
    mapping of relative file path -> text (or nested mappings for sub-dirs).
    """
    problems: list[str] = []
    for name, want in expected.items():
        value = values.get(name)
        if value is None:
            produced = ", ".join(sorted(values)) or "none"
            problems.append(f"output {name!r} was not produced (outputs: {produced})")
            continue
        param = declared.get(name)
        if is_value_document(want, param) and next(iter(want)) == value.type.value:
            want = want[value.type.value]
        problems.extend(value_mismatches(want, _actual(value), name))
    return problems


def _actual(value: Value) -> Any:
    if value.type is ValueType.FILE:
        return _file_text(Path(value.data))
    if value.type is ValueType.DIR:
        return _dir_texts(Path(value.data))
    return value.to_python()


def _file_text(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError as error:
        return f"<unreadable file {path}: {error.strerror}>"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"<binary, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}>"


def _dir_texts(path: Path) -> dict[str, Any]:
    if not path.is_dir():
        return {}
    return {entry.name: _dir_texts(entry) if entry.is_dir() else _file_text(entry)
            for entry in sorted(path.iterdir())}


_MISSING = object()


def _lookup(got: dict[str, Any], key: str) -> Any:
    """``got[key]``; a key such as ``a/b.txt`` also reaches into nested mappings (a dir output's sub-dirs)."""
    if key in got:
        return got[key]
    for part in str(key).split("/"):
        if not isinstance(got, dict) or part not in got:
            return _MISSING
        got = got[part]
    return got


def value_mismatches(want: Any, got: Any, where: str) -> list[str]:
    """How ``got`` differs from ``want`` (a literal, or a matcher document at any depth); [] when it holds.

    Mappings match partially: only the keys ``want`` lists are compared.
    """
    matcher = matcher_from_document(want)
    if matcher is not None:
        return [] if matcher.matches(got) else [f"{where}: expected {matcher!r}, got {_short(got)}"]
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected a mapping {_short(want)}, got {_short(got)}"]
        problems = []
        for key, sub in want.items():
            found = _lookup(got, key)
            if found is _MISSING:
                problems.append(f"{where}: key {key!r} is missing (has {', '.join(map(repr, sorted(got))) or 'none'})")
            else:
                problems.extend(value_mismatches(sub, found, f"{where}.{key}" if str(key).isidentifier()
                                                 else f"{where}[{key!r}]"))
        return problems
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where}: expected {_short(want)}, got {_short(got)}"]
        return [problem for index, (sub, item) in enumerate(zip(want, got, strict=True))
                for problem in value_mismatches(sub, item, f"{where}[{index}]")]
    if _equal(want, got):
        return []
    return [f"{where}: expected {_short(want)}, got {_short(got)}"]


def _equal(want: Any, got: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return want is got
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return want == got or (math.isnan(want) and math.isnan(got))
    return type(want) is type(got) and want == got


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."



# -- expected containers ----------------------------------------------------------------------------

# What a `containers:` entry may check, by key: (expected, container, where) -> problems. Keys name
# ContainerRun attributes (the streams as text); add a key here and to the schema's containerExpectation
# to check more of a container.
ContainerCheck = Callable[[Any, Any, str], list[str]]


def _attribute(name: str) -> ContainerCheck:
    def check(want: Any, container: Any, where: str) -> list[str]:
        return value_mismatches(want, getattr(container, name), where)
    return check


def _seconds(text: Any) -> float:
    if isinstance(text, bool) or not isinstance(text, (int, float)) or not math.isfinite(text) or text < 0:
        raise ValueError(f"{text!r} is not a number of seconds (0 or more)")
    return float(text)


# Resource figures a container may use at most: key -> (parse the expected value, attribute, shown as text).
CONTAINER_MAXIMA: dict[str, tuple[Callable[[Any], float], str, Callable[[Any], str]]] = {
    "max_memory": (parse_size, "peak_memory_bytes", format_bytes),
    "max_cpu_seconds": (_seconds, "cpu_seconds", lambda seconds: f"{seconds:.2f} s"),
    "max_duration_seconds": (_seconds, "duration_seconds", lambda seconds: f"{seconds:.2f} s"),
}


def _at_most(key: str) -> ContainerCheck:
    parse, attribute, shown = CONTAINER_MAXIMA[key]

    def check(want: Any, container: Any, where: str) -> list[str]:
        limit, used = parse(want), getattr(container, attribute)
        if used is None:
            return [f"{where}: not measured (figures need the in-process executor on a local engine with the "
                    "cgroupfs driver; see README, 'Limits and resource figures')"]
        return [f"{where}: expected at most {shown(limit)}, used {shown(used)}"] if used > limit else []
    return check


CONTAINER_CHECKS: dict[str, ContainerCheck] = {
    "exit_code": _attribute("exit_code"),
    "exit_reason": _attribute("exit_reason"),
    "started": _attribute("started"),
    "image": _attribute("image_ref"),
    "stdout": _attribute("stdout_text"),
    "stderr": _attribute("stderr_text"),
    "output": _attribute("output"),
    **{key: _at_most(key) for key in CONTAINER_MAXIMA},
}


def container_mismatches(expected: Sequence[Mapping[str, Any]], containers: Sequence[Any]) -> list[str]:
    """How the op's containers (ContainerRuns, in the order they started) differ from ``expected``."""
    problems: list[str] = []
    for index, wanted in enumerate(expected):
        where = f"containers[{index}]"
        if index >= len(containers):
            problems.append(f"{where}: expected container #{index + 1}; the op ran {len(containers)}")
            continue
        for key, want in wanted.items():
            problems.extend(CONTAINER_CHECKS[key](want, containers[index], f"{where}.{key}"))
    return problems
