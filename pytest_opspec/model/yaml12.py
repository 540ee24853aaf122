"""Read op.yml as YAML 1.2 (core schema) into plain JSON-like values with line/column positions.

libyaml (through PyYAML) only tokenizes and parses; values are built here from the event stream,
without recursion, so that:
- plain scalars follow the YAML 1.2 core schema, not PyYAML's 1.1 rules (``yes``/``on``/``no``
  stay strings, ``0o17`` is octal, ``017`` is decimal, ``1:20`` is a string, no timestamps, and
  ``<<`` is an ordinary key);
- every node's position is recorded under its JSON pointer, and every mapping key's position too;
- mapping keys are always strings (their source text), and duplicate keys are errors;
- hostile input (deep nesting, alias bombs, recursive aliases, binary data, huge files) gives a
  clear error instead of a crash or a hang.
See docs/design-notes.md, "op.yml loading".
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml
from yaml import events as ev

from .document import YamlDocument, read_op_text
from .problems import InvalidOpError, Location, Problem, json_pointer
from .types import Position

MAX_DEPTH = 100
# Values in the document, counting every alias as a full copy of what it names.
MAX_NODES = 200_000

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_DECIMAL = re.compile(r"[-+]?[0-9]+\Z")
_OCTAL = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
# First characters a non-string plain scalar can start with.
_MAYBE_TYPED = frozenset("-+.0123456789~nNtTfF")


class _Failed(Exception):
    """Internal: stop building; the problem is already recorded."""


def parse_yaml(text: str, file: Path) -> YamlDocument:
    """Build the single document of ``text``; InvalidOpError lists every problem found."""
    builder = _Builder(file)
    try:
        builder.run(text)
    except _Failed:
        pass
    except yaml.MarkedYAMLError as error:
        builder.syntax_error(error)
    except yaml.YAMLError as error:  # unmarked reader errors
        builder.problems.append(Problem(file, f"invalid YAML: {error}", check="yaml"))
    if builder.problems:
        raise InvalidOpError(file, builder.problems)
    return builder.document


def load_yaml_file(file: Path) -> YamlDocument:
    return parse_yaml(read_op_text(file), file)


def _position(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "sequence" if isinstance(value, list) else "mapping"


class _Frame:
    __slots__ = ("value", "location", "anchor", "nodes", "key", "key_position", "key_pending")

    def __init__(self, value: list[Any] | dict[str, Any], location: Location, anchor: str | None) -> None:
        self.value = value
        self.location = location
        self.anchor = anchor
        self.nodes = 1
        # Mapping frames: the key read and waiting for its value.
        self.key: str | None = None
        self.key_position: Position | None = None
        self.key_pending = isinstance(value, dict)


class _Builder:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.document = YamlDocument(None)
        self.stack: list[_Frame] = []
        # anchor -> (value, node count, source text of a scalar)
        self.anchors: dict[str, tuple[Any, int, str | None]] = {}
        self.open_anchors: set[str] = set()
        self.nodes = 0
        self.documents = 0

    # -- problems ---------------------------------------------------------------------------
    def problem(self, message: str, location: Location, position: Position | None) -> None:
        self.problems.append(Problem(self.file, message, location, position, check="yaml"))

    def fatal(self, message: str, location: Location, position: Position | None) -> None:
        self.problem(message, location, position)
        raise _Failed

    def syntax_error(self, error: yaml.MarkedYAMLError) -> None:
        mark = error.problem_mark or error.context_mark
        text = error.problem or str(error)
        if "maximum nesting depth" in text:
            # libyaml's own limit (1000 levels) can fire while it scans ahead, before our check sees
            # level 101: it is the same problem, so it gets the same message.
            self.problem(f"nesting deeper than {MAX_DEPTH} levels", (), _position(mark) if mark else None)
            return
        if error.context and error.context_mark and error.problem_mark:
            text = f"{text} ({error.context} at line {error.context_mark.line + 1})"
        elif error.context:
            text = f"{error.context}: {text}"
        self.problem(f"invalid YAML: {text}", (), _position(mark) if mark else None)

    # -- event loop -------------------------------------------------------------------------
    def run(self, text: str) -> None:
        loader = _Loader(text)
        try:
            while loader.check_event():
                self.handle(loader.get_event())
        finally:
            loader.dispose()
        if self.documents == 0:
            self.fatal("file is empty; an op.yml must be a mapping with at least 'name'", (), None)

    def handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.ScalarEvent):
            self.scalar(event)
        elif isinstance(event, (ev.MappingStartEvent, ev.SequenceStartEvent)):
            self.start(event)
        elif isinstance(event, (ev.MappingEndEvent, ev.SequenceEndEvent)):
            self.end()
        elif isinstance(event, ev.AliasEvent):
            self.alias(event)
        elif isinstance(event, ev.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self.fatal("an op.yml must hold one YAML document; found a second one", (),
                           _position(event.start_mark))

    def next_location(self, position: Position) -> Location | None:
        """Location of the node about to be added; None when it is a mapping key."""
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            return (*frame.location, len(frame.value))
        if frame.key_pending:
            return None
        assert frame.key is not None
        return (*frame.location, frame.key)

    def count(self, nodes: int, location: Location, position: Position) -> None:
        self.nodes += nodes
        if self.nodes > MAX_NODES:
            self.fatal(f"document too large: more than {MAX_NODES} values (counting every alias "
                       "as a copy of its anchor)", location, position)

    def add(self, value: Any, nodes: int, position: Position, location: Location) -> None:
        """Attach a finished node of ``nodes`` values to its parent (or make it the root)."""
        pointer = json_pointer(location)
        self.document.positions[pointer] = position
        if not self.stack:
            self.document.data = value
            return
        frame = self.stack[-1]
        frame.nodes += nodes
        if isinstance(frame.value, list):
            frame.value.append(value)
            return
        assert frame.key is not None and frame.key_position is not None
        self.document.key_positions[pointer] = frame.key_position
        frame.value[frame.key] = value
        frame.key = None
        frame.key_pending = True

    def set_key(self, frame: _Frame, key: str, position: Position) -> None:
        mapping = frame.value
        assert isinstance(mapping, dict)
        if key in mapping:
            first = self.document.key_positions.get(json_pointer((*frame.location, key)))
            where = f" (first at line {first.line})" if first else ""
            self.problem(f"duplicate key {key!r}{where}; YAML 1.2 requires unique keys",
                         (*frame.location, key), position)
        frame.key = key
        frame.key_position = position
        frame.key_pending = False

    def scalar(self, event: ev.ScalarEvent) -> None:
        position = _position(event.start_mark)
        location = self.next_location(position)
        if location is None:
            frame = self.stack[-1]
            if event.tag not in (None, "!", _STR):
                self.problem(f"mapping keys must be strings; {event.tag} is not allowed",
                             frame.location, position)
            self.set_key(frame, event.value, position)
            if event.anchor:
                self.anchors[event.anchor] = (event.value, 1, event.value)
            return
        value = self.resolve(event, location, position)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1, event.value)
        self.count(1, location, position)
        self.add(value, 1, position, location)

    def resolve(self, event: ev.ScalarEvent, location: Location, position: Position) -> Any:
        text = event.value
        tag = event.tag
        if tag is None and event.implicit[0]:
            return _resolve_plain(text)
        if tag in (None, "!", _STR):
            return text
        typed = _resolve_plain(text)
        expected = {_INT: int, _FLOAT: float, _BOOL: bool, _NULL: type(None)}.get(tag)
        if expected is None:
            self.problem(f"unsupported YAML tag {tag}; op.yml allows only the YAML 1.2 core "
                         "schema (!!str, !!int, !!float, !!bool, !!null)", location, position)
            return text
        if expected is float and isinstance(typed, int) and not isinstance(typed, bool):
            return float(typed)
        if type(typed) is not expected:
            self.problem(f"{text!r} is not a valid {tag.rsplit(':', 1)[1]}", location, position)
            return text
        return typed

    def start(self, event: ev.MappingStartEvent | ev.SequenceStartEvent) -> None:
        position = _position(event.start_mark)
        is_map = isinstance(event, ev.MappingStartEvent)
        if event.tag not in (None, "!", _MAP if is_map else _SEQ):
            self.problem(f"unsupported YAML tag {event.tag}", (), position)
        location = self.next_location(position)
        if location is None:
            # A sequence or mapping used as a key: report it and build it under a dummy key.
            frame = self.stack[-1]
            self.problem("mapping keys must be strings, not a "
                         f"{'mapping' if is_map else 'sequence'}", frame.location, position)
            self.set_key(frame, f"<complex key at line {position.line}>", position)
            location = (*frame.location, frame.key or "")
        if len(self.stack) >= MAX_DEPTH:
            self.fatal(f"nesting deeper than {MAX_DEPTH} levels", (), position)
        self.count(1, location, position)
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.document.positions[json_pointer(location)] = position
        self.stack.append(_Frame({} if is_map else [], location, event.anchor))

    def end(self) -> None:
        frame = self.stack.pop()
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, frame.nodes, None)
        position = self.document.positions[json_pointer(frame.location)]
        self.add(frame.value, frame.nodes, position, frame.location)

    def alias(self, event: ev.AliasEvent) -> None:
        position = _position(event.start_mark)
        anchor = event.anchor or ""
        location = self.next_location(position)
        where = location if location is not None else self.stack[-1].location
        if anchor in self.open_anchors:
            self.fatal(f"recursive alias *{anchor} (it refers to a node that contains it)", where, position)
        if anchor not in self.anchors:
            self.fatal(f"undefined alias *{anchor}", where, position)
        value, nodes, source = self.anchors[anchor]
        if location is None:
            frame = self.stack[-1]
            if source is None:
                self.problem(f"mapping keys must be strings; alias *{anchor} names a {_kind(value)}",
                             frame.location, position)
            self.set_key(frame, source if source is not None else f"*{anchor}", position)
            return
        self.count(nodes, location, position)
        self.add(value, nodes, position, location)


def _resolve_plain(text: str) -> Any:
    """A plain scalar under the YAML 1.2 core schema."""
    if text and text[0] not in _MAYBE_TYPED:
        return text
    if text in _NULLS:
        return None
    boolean = _BOOLS.get(text)
    if boolean is not None:
        return boolean
    if _DECIMAL.match(text):
        return int(text)
    if _OCTAL.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT_RE.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text
