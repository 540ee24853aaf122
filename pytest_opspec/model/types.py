"""Typed model of an opspec 0.1.5 op definition (op.yml).

Expressions are kept as the raw YAML values (str, int/float, list or dict); they are evaluated at
run time by ``pytest_opspec.expressions``. Every call and param remembers where it was written
(``pointer`` is a JSON pointer into op.yml, ``position`` its 1-based line and column), so errors
and failure reports can name the line. A call's pointer is that of its body (the value of
``container:``, ``op:``, ``serial:`` or ``parallel:``); a param's position is that of its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Union

from ..values import ValueType

# A raw expression as written in op.yml: str, int, float, list or dict.
Expression = Any


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column in op.yml."""

    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


def nearest_position(positions: Mapping[str, Position], pointer: str) -> Position | None:
    """Position of the node at JSON ``pointer``, or of its nearest ancestor that has one."""
    while True:
        position = positions.get(pointer)
        if position is not None or not pointer:
            return position
        pointer = pointer.rsplit("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Param:
    """A declared input or output."""

    name: str
    type: ValueType
    description: str | None = None
    default: Any = None
    has_default: bool = False
    is_secret: bool = False
    # The raw draft-04 constraint keywords (``constraints:`` of the param), or None.
    constraints: Mapping[str, Any] | None = None
    pointer: str = ""
    position: Position | None = None


@dataclass(frozen=True, slots=True)
class PullCreds:
    """The ``pullCreds`` of an image or op call, as expressions."""

    username: Expression
    password: Expression


@dataclass(frozen=True, slots=True)
class Image:
    """A container call's ``image``: its ref and pull credentials, as expressions."""

    ref: Expression
    pull_creds: PullCreds | None = None


@dataclass(frozen=True, slots=True)
class ContainerCall:
    """A ``container:`` call."""

    image: Image
    cmd: tuple[Expression, ...] | None = None
    # container path -> expression; None means "bind the same path of the package" (files/dirs)
    # or "the scope value of the same name" (envVars).
    dirs: Mapping[str, Expression | None] = field(default_factory=dict)
    env_vars: Mapping[str, Expression | None] = field(default_factory=dict)
    files: Mapping[str, Expression | None] = field(default_factory=dict)
    name: str | None = None
    # container port(s) (optionally with /tcp or /udp) -> host port(s)
    ports: Mapping[str, str] = field(default_factory=dict)
    # container socket address -> scope name
    sockets: Mapping[str, str] = field(default_factory=dict)
    # output line prefix -> scope name
    std_out: Mapping[str, str] = field(default_factory=dict)
    std_err: Mapping[str, str] = field(default_factory=dict)
    work_dir: str | None = None
    pointer: str = ""
    position: Position | None = None


@dataclass(frozen=True, slots=True)
class OpCall:
    """An ``op:`` call of another package."""

    pkg_ref: str
    pull_creds: PullCreds | None = None
    # input name -> expression; None (or "") means implicit binding from the caller's scope.
    inputs: Mapping[str, Expression | None] = field(default_factory=dict)
    # caller's name -> callee's output name; None means the same name.
    outputs: Mapping[str, str | None] = field(default_factory=dict)
    pointer: str = ""
    position: Position | None = None


@dataclass(frozen=True, slots=True)
class SerialCall:
    """A ``serial:`` call: its calls run one after the other."""

    calls: tuple[Call, ...]
    pointer: str = ""
    position: Position | None = None


@dataclass(frozen=True, slots=True)
class ParallelCall:
    """A ``parallel:`` call: its calls run at once."""

    calls: tuple[Call, ...]
    pointer: str = ""
    position: Position | None = None


Call = Union[ContainerCall, OpCall, SerialCall, ParallelCall]


@dataclass(frozen=True, slots=True)
class OpDefinition:
    """An op.yml, parsed: name, inputs, outputs, the call it runs, and where each node was written."""

    name: str
    path: Path  # the op.yml file
    description: str | None = None
    version: str | None = None
    inputs: Mapping[str, Param] = field(default_factory=dict)
    outputs: Mapping[str, Param] = field(default_factory=dict)
    run: Call | None = None
    # JSON pointer -> position of every node of the document, for error reports.
    positions: Mapping[str, Position] = field(default_factory=dict, repr=False, compare=False)
    # JSON pointer of a mapping value -> position of its key.
    key_positions: Mapping[str, Position] = field(default_factory=dict, repr=False, compare=False)

    @property
    def pkg_dir(self) -> Path:
        return self.path.parent

    def position_of(self, pointer: str) -> Position | None:
        """Position of the node at ``pointer``, or of its nearest ancestor that has one."""
        return nearest_position(self.positions, pointer)

    def key_position_of(self, pointer: str) -> Position | None:
        """Position of the key that introduces the node at ``pointer`` (else of the node)."""
        return self.key_positions.get(pointer) or self.position_of(pointer)


def op_calls(call: Call | None) -> Iterator[OpCall]:
    """Every op call of a run graph, depth first, in document order."""
    if isinstance(call, OpCall):
        yield call
    elif isinstance(call, (SerialCall, ParallelCall)):
        for child in call.calls:
            yield from op_calls(child)
