"""Snapshots of op runs that stay stable from run to run, for syrupy.

``normalize_result`` turns a RunResult into a plain, readable structure:

- the outcome, the root's error, the outputs and the events (as ``{type: body}``, like the node API);
- every value of a secret input or output as ``<secret:NAME>``, wherever it appears (container output,
  messages, outputs, file contents);
- no timestamps and no sequence numbers; image pull progress dropped;
- op, call and container ids replaced by ordinals in order of first appearance (``op-1``,
  ``container-2``...), wherever they appear (paths, messages, output);
- host paths replaced: the run's scratch dir by ``<scratch>``, the root package by ``<pkg>`` (its
  siblings by ``<pkg>/../name``), the system temp dir by ``<tmp>``;
- file outputs as their text (or size and sha256 when binary), dir outputs as a sorted listing of
  their files with sizes and digests; file and dir values inside events as their (normalized) paths;
- events of parallel branches grouped per branch, ``{"parallel": [[...], [...]]}``: the order within a
  branch is kept, the branches are sorted by content, so arrival order between branches does not matter
  (this needs ``Event.call_path``, which the in-process executor sets; events from a remote node keep
  arrival order).

``OpSnapshotExtension`` (the ``op_snapshot`` fixture) writes one JSON file per snapshot, one event
per line; ``ScenarioSnapshotExtension`` stores scenario snapshots in the package's own ``__snapshots__``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import KeysView
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from ..events import Event, EventType
from ..executor.result import RunResult
from ..executor.result import strip_error_frame
from ..values import Value, ValueType
from ..values.value import json_number

# The longest dir listing kept in a snapshot; a bigger output dir is summarized after it.
MAX_LISTING = 500
_PATH_CHARS = r"[^\s/\"'=:,;()\[\]{}<>]"

# Event body fields in the order they are shown (rootOpId is always the root: left out).
_FIELDS = (("opId", "op_id"), ("callId", "call_id"), ("containerId", "container_id"), ("pkgRef", "pkg_ref"),
           ("imageRef", "image_ref"), ("exitCode", "exit_code"), ("outcome", "outcome"), ("msg", "msg"),
           ("data", "data"), ("outputs", "outputs"))
_ID_KINDS = (("op_id", "op"), ("container_id", "container"), ("call_id", "call"))


def normalize_result(result: RunResult) -> dict[str, Any]:
    """The stable, readable form of a run (see the module docstring)."""
    events = _per_stream([e for e in result.events if not _is_pull_progress(e)])
    mask = result.secrets.mask
    paths = _PathRules(result)

    def content_key(branch: list[Any]) -> str:
        # Branches are ordered by what they did, never by their (random) ids.
        return json.dumps(_render(branch, lambda value: _mask_ids(paths(mask(value)))), sort_keys=True,
                          ensure_ascii=False)

    parallels = {e.call_path for e in events if e.type is EventType.PARALLEL_CALL_ENDED}
    arranged = _arrange(events, parallels, 0, content_key)
    ids = _IdRule(_ordinals(arranged, result.op_id))

    def text(value: str) -> str:
        return ids(paths(mask(value)))

    document: dict[str, Any] = {"outcome": result.outcome.value if result.outcome else None}
    if result.timed_out:
        document["timedOut"] = True
    if result.error:
        document["error"] = text(strip_error_frame(result.error))
    document["outputs"] = {name: _value(value, text, contents=True) for name, value in sorted(result.values.items())}
    document["events"] = _render(arranged, text)
    return document


def _is_pull_progress(event: Event) -> bool:
    return event.type is EventType.CONTAINER_STDOUT_WRITTEN_TO and not event.pkg_ref


_STREAMS = (EventType.CONTAINER_STDOUT_WRITTEN_TO, EventType.CONTAINER_STDERR_WRITTEN_TO)


def _per_stream(events: list[Event]) -> list[Event]:
    """Each container's output as all its stdout lines, then all its stderr lines, where its output begins.

    The engine delivers the two streams of a container independently, so how they interleave differs
    from run to run; the order within each stream does not.
    """
    lines: dict[str, dict[EventType, list[Event]]] = {}
    for event in events:
        if event.type in _STREAMS:
            lines.setdefault(event.container_id or "", {stream: [] for stream in _STREAMS})[event.type].append(event)
    arranged: list[Event] = []
    for event in events:
        if event.type not in _STREAMS:
            arranged.append(event)
            continue
        streams = lines.pop(event.container_id or "", None)
        if streams is not None:  # the container's first line: all of its output goes here
            for stream in _STREAMS:
                arranged.extend(streams[stream])
    return arranged


# -- parallel branches ------------------------------------------------------------------------------

class _Parallel:
    """The events of one parallel call, one list per branch (each arranged recursively)."""

    def __init__(self, branches: list[list[Any]]) -> None:
        self.branches = branches


def _arrange(events: list[Event], parallels: set[tuple[str, ...]], min_len: int,
             content_key: Callable[[list[Any]], str]) -> list[Any]:
    """Events in order, with the events inside each outermost parallel call grouped per branch."""
    def outer(event: Event) -> tuple[str, ...] | None:
        inside = [p for p in parallels
                  if len(p) >= min_len and len(event.call_path) > len(p) and event.call_path[:len(p)] == p]
        return min(inside, key=len) if inside else None

    nodes: list[Any] = []
    taken: set[int] = set()
    for index, event in enumerate(events):
        if index in taken:
            continue
        block = outer(event)
        if block is None:
            nodes.append(event)
            continue
        branches: dict[str, list[Event]] = {}
        for later in range(index, len(events)):
            other = events[later]
            if later not in taken and outer(other) == block:
                taken.add(later)
                branches.setdefault(other.call_path[len(block)], []).append(other)
        arranged = [_arrange(branch, parallels, len(block) + 1, content_key) for branch in branches.values()]
        arranged.sort(key=content_key)
        nodes.append(_Parallel(arranged))
    return nodes


def _walk(nodes: list[Any]) -> Iterable[Event]:
    for node in nodes:
        if isinstance(node, _Parallel):
            for branch in node.branches:
                yield from _walk(branch)
        else:
            yield node


def _ordinals(nodes: list[Any], root_op_id: str) -> dict[str, str]:
    """id -> ``op-1``, ``container-1``, ``call-1``..., numbered per kind in order of first appearance."""
    tokens: dict[str, str] = {root_op_id: "op-1"} if root_op_id else {}
    counts = {"op": len(tokens), "container": 0, "call": 0}
    for event in _walk(nodes):
        for attribute, kind in _ID_KINDS:
            value = getattr(event, attribute)
            if value and value not in tokens:
                counts[kind] += 1
                tokens[value] = f"{kind}-{counts[kind]}"
    return tokens


# -- text rules -----------------------------------------------------------------------------------

class _IdRule:
    """Replaces every known id in a text by its token."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens
        self._pattern = re.compile("|".join(re.escape(i) for i in sorted(tokens, key=len, reverse=True))) \
            if tokens else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self.tokens[match.group()], text)


# Ids the executor makes: 32 hex characters, or a UUID with dashes (a run id).
_ANY_ID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


def _mask_ids(text: str) -> str:
    """Every id as ``#``: the same text for the same work, whatever its ids."""
    return _ANY_ID.sub("#", text)


class _PathRules:
    """Host paths that differ between machines and runs, the longest (most specific) first."""

    def __init__(self, result: RunResult) -> None:
        rules: list[tuple[re.Pattern[str], str]] = []
        if result.op_id:
            rules.append((re.compile(rf"(?:/{_PATH_CHARS}+)*/runs/{re.escape(result.op_id)}"), "<scratch>"))
        paths: dict[str, str] = {}
        temp = tempfile.gettempdir()
        for path, token in (*result.stable_paths.items(), (temp, "<tmp>"), (os.path.realpath(temp), "<tmp>")):
            paths.setdefault(path.rstrip("/"), token)
        pkg = result.pkg_ref
        if pkg and os.path.isabs(pkg):
            pkg = pkg.rstrip("/")
            paths[pkg] = "<pkg>"  # the package wins over a temp dir that holds it
            parent = os.path.dirname(pkg)
            if parent not in ("", "/"):
                paths[parent] = "<pkg>/.."
        for path in sorted((p for p in paths if p), key=len, reverse=True):
            rules.append((_path_pattern(path), paths[path]))
        self.rules = rules

    def __call__(self, text: str) -> str:
        for pattern, replacement in self.rules:
            text = pattern.sub(replacement, text)
        return text


def _path_pattern(path: str) -> re.Pattern[str]:
    """``path`` as a whole path (or path prefix), not as the start of a longer name."""
    return re.compile(re.escape(path) + rf"(?!{_PATH_CHARS})")


# -- rendering ------------------------------------------------------------------------------------

def _render(nodes: list[Any], text: Callable[[str], str]) -> list[Any]:
    rendered: list[Any] = []
    for node in nodes:
        if isinstance(node, _Parallel):
            rendered.append({"parallel": [_render(branch, text) for branch in node.branches]})
        else:
            rendered.append(_event(node, text))
    return rendered


def _event(event: Event, text: Callable[[str], str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, attribute in _FIELDS:
        value = getattr(event, attribute)
        if value is None:
            continue
        if name == "outputs":
            value = {key: _value(v, text, contents=False) for key, v in sorted(value.items())}
        elif name == "data":
            value = _data(value, text)
        elif name == "outcome":
            value = value.value
        elif isinstance(value, str):
            value = text(value)
        body[name] = value
    return {event.type.value: body}


def _data(data: bytes, text: Callable[[str], str]) -> str:
    try:
        return text(data.decode("utf-8"))
    except UnicodeDecodeError:
        return _binary(data)


def _binary(data: bytes) -> str:
    return f"<binary: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}>"


def _value(value: Value, text: Callable[[str], str], *, contents: bool) -> dict[str, Any]:
    """A Value as ``{type: data}``; with ``contents``, file and dir values show what is in them."""
    kind = value.type
    if kind in (ValueType.FILE, ValueType.DIR) and contents:
        path = Path(value.data)
        data: Any = _file(path, text) if kind is ValueType.FILE else _listing(path)
    elif kind is ValueType.NUMBER:
        number = json_number(value.data)
        shown = text(json.dumps(number))  # a secret number becomes its placeholder
        data = number if shown == json.dumps(number) else shown
    else:
        data = _strings(value.data, text)
    return {kind.value: data}


def _strings(data: Any, text: Callable[[str], str]) -> Any:
    if isinstance(data, str):
        return text(data)
    if isinstance(data, list):
        return [_strings(item, text) for item in data]
    if isinstance(data, dict):
        return {text(str(key)): _strings(item, text) for key, item in data.items()}
    return data


def _file(path: Path, text: Callable[[str], str]) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return f"<missing: {text(str(path))}>"
    return _data(data, text)


def _listing(path: Path) -> dict[str, str] | str:
    """``{"relative/file": "N bytes, sha256 …", "sub/": "dir"}``, sorted; at most MAX_LISTING entries."""
    if not path.is_dir():
        return "<missing dir>"
    entries: dict[str, str] = {}
    for current, dirs, files in os.walk(path):
        dirs.sort()
        base = Path(current)
        for name in dirs:
            entries[f"{(base / name).relative_to(path)}/"] = "dir"
        for name in sorted(files):
            file = base / name
            try:
                data = file.read_bytes()
            except OSError:
                entries[str(file.relative_to(path))] = "unreadable"
                continue
            entries[str(file.relative_to(path))] = f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}"
    listing = dict(sorted(entries.items()))
    if len(listing) > MAX_LISTING:
        kept = dict(list(listing.items())[:MAX_LISTING])
        kept["…"] = f"{len(listing) - MAX_LISTING} more entries"
        return kept
    return listing


# -- syrupy -----------------------------------------------------------------------------------------

class OpSnapshotExtension(JSONSnapshotExtension):
    """One JSON file per snapshot; a RunResult is normalized and written one event per line.

    Use ``for_config(config)``: that subclass also calls the ``pytest_opspec_normalize_snapshot`` hook.
    """

    config: pytest.Config | None = None

    @classmethod
    def for_config(cls, config: pytest.Config) -> type[OpSnapshotExtension]:
        return _bound_extension(cls, config)

    @classmethod
    def sort(cls, iterable: Iterable[Any]) -> Iterable[Any]:
        # Keep the order of mapping keys (the normalized form orders them for reading); sets still sort.
        if isinstance(iterable, KeysView):
            return list(iterable)
        return super().sort(iterable)

    def serialize(self, data: Any, *, exclude: Any = None, include: Any = None, matcher: Any = None) -> str | bytes:
        if not isinstance(data, RunResult):
            return super().serialize(data, exclude=exclude, include=include, matcher=matcher)
        normalized = normalize_result(data)
        if self.config is not None:
            self.config.hook.pytest_opspec_normalize_snapshot(config=self.config, document=normalized, result=data)
        document = self._filter(data=normalized, depth=0, path=(), exclude=exclude, include=include,
                                matcher=matcher)
        return dump_normalized(document)

    @classmethod
    def matches_test_location(cls, *, test_location: Any, snapshot_location: str) -> bool:
        # syrupy relates a file to its test by the raw test name; file names drop characters such as
        # ':' or '?' (possible in scenario names), so also compare with the name as it is stored.
        if super().matches_test_location(test_location=test_location, snapshot_location=snapshot_location):
            return True
        location = Path(snapshot_location)
        return (location.parent.name == test_location.basename
                and test_location.matches_snapshot_site(snapshot_location)
                and location.name == f"{cls.get_snapshot_name(test_location=test_location)}.{cls.file_extension}")


@functools.cache
def _bound_extension(extension: type[OpSnapshotExtension], config: pytest.Config) -> type[OpSnapshotExtension]:
    return type(extension.__name__, (extension,), {"config": config})


class ScenarioSnapshotExtension(OpSnapshotExtension):
    """Scenario snapshots live in the package: ``<package>/__snapshots__/<package name>/<test id>.json``.

    The folder is the whole directory name (``fs.mkdir``), not syrupy's module-style stem (``fs``).
    """

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        package = Path(test_location.filepath)
        return str(package / str(cls.snapshot_dirname) / package.name)

    @classmethod
    def matches_test_location(cls, *, test_location: Any, snapshot_location: str) -> bool:
        location = Path(snapshot_location)
        return (location.parent == Path(cls.dirname(test_location=test_location))
                and location.name == f"{cls.get_snapshot_name(test_location=test_location)}.{cls.file_extension}")


def dump_normalized(document: dict[str, Any]) -> str:
    """JSON with one line per output and per event, parallel branches nested; stable and diffable."""
    lines = ["{"]
    items = list(document.items())
    for position, (key, value) in enumerate(items):
        comma = "," if position < len(items) - 1 else ""
        if key == "events" and isinstance(value, list):
            lines.append('  "events": [')
            lines.extend(_event_lines(value, 4))
            lines.append(f"  ]{comma}")
        elif key == "outputs" and isinstance(value, dict) and value:
            lines.append('  "outputs": {')
            entries = list(value.items())
            for index, (name, output) in enumerate(entries):
                lines.append(f"    {_inline(name)}: {_inline(output)}{',' if index < len(entries) - 1 else ''}")
            lines.append(f"  }}{comma}")
        else:
            lines.append(f"  {_inline(key)}: {_inline(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _event_lines(nodes: list[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for position, node in enumerate(nodes):
        comma = "," if position < len(nodes) - 1 else ""
        if isinstance(node, dict) and list(node) == ["parallel"] and isinstance(node["parallel"], list):
            lines.append(f'{pad}{{"parallel": [')
            branches = node["parallel"]
            for index, branch in enumerate(branches):
                lines.append(f"{pad}  [")
                lines.extend(_event_lines(branch, indent + 4))
                lines.append(f"{pad}  ]{',' if index < len(branches) - 1 else ''}")
            lines.append(f"{pad}]}}{comma}")
        else:
            lines.append(f"{pad}{_inline(node)}{comma}")
    return lines


def _inline(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
