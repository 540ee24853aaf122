"""Static checks of a schema-valid op, beyond what the schema can say.

Each check is one function registered in CHECKS. A check fails (severity error) only what cannot
run; forms the reference still runs but that are deprecated or likely mistakes are warnings, so
that real packages get no false failures (see docs/compatibility.md, "Static checks").
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..pkgs.errors import PkgError

from ..pkgs.refs import has_scheme, is_remote_ref

from ..pkgs.resolve import candidates, find_local, PackageResolver, PkgOptions
from ..pkgs.errors import PkgOfflineError
from ..registry import Registry
from ..values import ValueType
from .constraints import constraint_errors
from .load import OP_FILE, load_op
from .problems import InvalidOpError, Location, Problem, Severity, json_pointer
from .types import Call, ContainerCall, OpCall, OpDefinition, ParallelCall, SerialCall

NAME = re.compile(r"[-_.a-zA-Z0-9]+\Z")
# Innermost `$(...)`: nested references like `$(/$(name))` are dynamic and not checked further.
_REF = re.compile(r"\$\(([^()]*)\)")
_DIR_PATH_REF = re.compile(r"([-_.a-zA-Z0-9]+)/(.*)\Z", re.S)
_UNDER_DIR_REF = re.compile(r"\$\(([-_.a-zA-Z0-9]+)\)/")


class OpCache:
    """Loads each package once per validation run (callees are shared between callers), and finds callees:
    local ones on disk, remote ones through ``packages`` (mapped, vendored or cached; fetched only with
    ``fetch``: validation never touches the network unless asked)."""

    def __init__(self, packages: PackageResolver | None = None, *, fetch: bool = False) -> None:
        self._ops: dict[Path, OpDefinition | InvalidOpError] = {}
        self.packages = packages or PackageResolver(PkgOptions(offline=True))
        self.fetch = fetch

    def locate(self, ref: str, caller_dir: Path) -> Path | None:
        """The directory an op ref of the package in ``caller_dir`` names, if there is one to look at.

        Raises PkgError for a remote ref that is not available (PkgOfflineError: not without the network).
        """
        if not is_remote_ref(ref):
            return find_local(ref, [caller_dir.parent])
        return self.packages.resolve(ref, [caller_dir.parent], fetch=self.fetch).dir

    def get(self, pkg_dir: Path) -> OpDefinition | InvalidOpError:
        key = pkg_dir.resolve()
        if key not in self._ops:
            try:
                self._ops[key] = load_op(key / OP_FILE)
            except InvalidOpError as error:
                self._ops[key] = error
        return self._ops[key]


@dataclass(frozen=True, slots=True)
class Visit:
    """A call of the op's graph, where it is, and the names in scope when it starts."""

    call: Call
    location: Location  # of the call body (the value of `container:`, `op:`, ...)
    scope: frozenset[str]


@dataclass
class CheckContext:
    op: OpDefinition
    cache: OpCache = field(default_factory=OpCache)

    def problem(self, check: str, message: str, location: Location, severity: Severity = Severity.ERROR,
                at_key: bool = False) -> Problem:
        pointer = json_pointer(location)
        position = self.op.key_position_of(pointer) if at_key else self.op.position_of(pointer)
        return Problem(self.op.path, message, location, position, severity, check)

    def warning(self, check: str, message: str, location: Location, at_key: bool = False) -> Problem:
        return self.problem(check, message, location, Severity.WARNING, at_key)

    @cached_property
    def visits(self) -> list[Visit]:
        visits: list[Visit] = []
        if self.op.run is not None:
            _walk(self.op.run, ("run",), frozenset(self.op.inputs), visits)
        return visits

    def op_calls(self) -> Iterator[tuple[Visit, OpCall]]:
        for visit in self.visits:
            if isinstance(visit.call, OpCall):
                yield visit, visit.call

    def callee(self, call: OpCall) -> OpDefinition | InvalidOpError | None:
        """The op a ref names, if it resolves to a package available here."""
        try:
            target = self.cache.locate(call.pkg_ref, self.op.pkg_dir)
        except PkgError:
            return None
        if target is None or not (target / OP_FILE).is_file():
            return None
        return self.cache.get(target)


Check = Callable[[CheckContext], Iterable[Problem]]
CHECKS: Registry[Check] = Registry("static check")
check = CHECKS.register


def run_checks(op: OpDefinition, cache: OpCache | None = None) -> list[Problem]:
    context = CheckContext(op, cache or OpCache())
    return [problem for function in CHECKS.values() for problem in function(context)]


# -- the call graph and its scope ---------------------------------------------------------------

def _walk(call: Call, location: Location, scope: frozenset[str], visits: list[Visit]) -> frozenset[str]:
    """Record ``call`` and its children; return the scope after it (SEMANTICS §5-§7)."""
    kind = _kind(call)
    body = (*location, kind)
    visits.append(Visit(call, body, scope))
    if isinstance(call, ContainerCall):
        return scope | container_outputs(call)
    if isinstance(call, OpCall):
        return scope | {name for name in call.outputs}
    if isinstance(call, SerialCall):
        for index, child in enumerate(call.calls):
            scope = _walk(child, (*body, index), scope, visits)
        return scope
    for index, child in enumerate(call.calls):
        _walk(child, (*body, index), scope, visits)
    return scope  # parallel children's outputs are discarded


def _kind(call: Call) -> str:
    return {ContainerCall: "container", OpCall: "op", SerialCall: "serial", ParallelCall: "parallel"}[type(call)]


def container_outputs(call: ContainerCall) -> set[str]:
    """Names a container call binds when it exits (SEMANTICS §5 "Outputs", §10.4)."""
    names = set(call.std_out.values()) | set(call.std_err.values())
    names |= {name for address, name in call.sockets.items() if address == "0.0.0.0"}
    for value in (*call.files.values(), *call.dirs.values()):
        name = bound_name(value)
        if name:
            names.add(name)
    return names


def bound_name(value: Any) -> str | None:
    """The scope name a files/dirs value binds: exactly `$(name)` or a bare name."""
    if not isinstance(value, str):
        return None
    if value.startswith("$(") and value.endswith(")") and NAME.match(value[2:-1]):
        return value[2:-1]
    return value if NAME.match(value) else None


def references(text: str) -> Iterator[str]:
    """The innermost `$(...)` reference texts in a string expression."""
    for match in _REF.finditer(text):
        yield match.group(1)


# -- checks -------------------------------------------------------------------------------------

@check("no-run")
def no_run(context: CheckContext) -> Iterator[Problem]:
    if context.op.run is None:
        yield context.warning("no-run", "the op has no 'run'; it does nothing and succeeds at once with "
                                        "its output defaults (the reference runtime hangs instead)", ())


@check("empty-block")
def empty_block(context: CheckContext) -> Iterator[Problem]:
    for visit in context.visits:
        if isinstance(visit.call, (SerialCall, ParallelCall)) and not visit.call.calls:
            kind = visit.location[-1]
            yield context.problem("empty-block", f"empty '{kind}' list; a {kind} call needs at least one "
                                                 "call (the runtime fails with 'Invalid call graph')", visit.location)


@check("default-constraints")
def default_constraints(context: CheckContext) -> Iterator[Problem]:
    for section, params in (("inputs", context.op.inputs), ("outputs", context.op.outputs)):
        for param in params.values():
            if not param.has_default or not param.constraints:
                continue
            # A warning: the op still runs whenever the param is given a value.
            for message in constraint_errors(param.constraints, param.default):
                yield context.warning("default-constraints",
                                      f"default {_short(param.default)} violates the param's own constraints "
                                      f"({message}); a call that relies on it fails", (section, param.name,
                                                                                        param.type.value, "default"))


@check("scope-refs")
def scope_refs(context: CheckContext) -> Iterator[Problem]:
    """`$(name)` must name an input or a value bound earlier; unresolved refs stay literal."""
    for visit in context.visits:
        for location, text, section in _expressions(visit):
            yield from _check_refs(context, visit.scope, location, text, section)


@check("implicit-bindings")
def implicit_bindings(context: CheckContext) -> Iterator[Problem]:
    """A null binding takes the caller's value of the same name, which must exist."""
    for visit in context.visits:
        call = visit.call
        if isinstance(call, ContainerCall):
            entries = [("envVars", name) for name, value in call.env_vars.items() if value is None]
            what = "environment variable"
        elif isinstance(call, OpCall):
            entries = [("inputs", name) for name, value in call.inputs.items() if value is None or value == ""]
            what = "input"
        else:
            continue
        for section, name in entries:
            if name not in visit.scope:
                yield context.problem(
                    "implicit-bindings",
                    f"{what} {name!r} is bound implicitly (no value), but no input or earlier output is "
                    f"named {name!r}; the call fails with \"not in scope\"", (*visit.location, section, name),
                    at_key=True)


@check("output-names")
def output_names(context: CheckContext) -> Iterator[Problem]:
    for visit, call in context.op_calls():
        for name in call.outputs:
            if not NAME.match(name):
                yield context.warning(
                    "output-names", f"{name!r} is not a plain name: opspec 0.1.5 binds the output to a scope "
                                    "variable with this literal name; writing outputs back to a path is "
                                    "0.1.6+ syntax", (*visit.location, "outputs", name), at_key=True)


@check("op-refs")
def op_refs(context: CheckContext) -> Iterator[Problem]:
    """Local refs resolve to a package; what the call binds matches what the callee declares."""
    for visit, call in context.op_calls():
        ref = call.pkg_ref
        location = (*visit.location, "pkg", "ref")
        if has_scheme(ref):
            yield context.warning("op-refs", f"op ref {ref!r} has a URL scheme; refs are written without one "
                                             "(host/path#tag), the reference cannot resolve this", location)
            continue
        try:
            target = context.cache.locate(ref, context.op.pkg_dir)
        except PkgOfflineError:
            yield context.warning("op-refs", f"remote op {ref} not checked: it is not mapped, vendored or cached "
                                             f"(`opspec validate --fetch` or `opspec pkg pull {ref}` makes it "
                                             "checkable)", location)
            continue
        except PkgError as error:
            yield context.warning("op-refs", f"{error}; the call fails when it is reached", location)
            continue
        if target is None:
            if not is_remote_ref(ref):
                tried = ", ".join(str(path) for path in candidates(ref, [context.op.pkg_dir.parent]))
                yield context.warning("op-refs", f"local op {ref!r} not found (looked in {tried}); the call "
                                                 "fails when it is reached", location)
            continue
        if not (target / OP_FILE).is_file():
            yield context.warning("op-refs", f"op ref {ref!r} resolves to {target}, which has no {OP_FILE}; "
                                             "the call fails when it is reached", location)
            continue
        callee = context.cache.get(target)
        if isinstance(callee, InvalidOpError):
            yield context.problem("op-refs", f"op {ref!r} ({callee.file}) is invalid: "
                                             f"{len(callee.errors)} error(s), first: "
                                             f"{callee.errors[0].format()}", location)
            continue
        yield from _check_binding(context, visit, call, callee)


def _check_binding(context: CheckContext, visit: Visit, call: OpCall, callee: OpDefinition) -> Iterator[Problem]:
    for name, value in call.inputs.items():
        if name not in callee.inputs:
            declared = ", ".join(sorted(callee.inputs)) or "none"
            guess = _did_you_mean(name, callee.inputs)
            yield context.problem("op-refs", f"op {call.pkg_ref!r} declares no input {name!r} (its inputs: "
                                             f"{declared})" + (f"; did you mean {guess!r}?" if guess else ""),
                                  (*visit.location, "inputs", name), at_key=True)
        elif (callee.inputs[name].type is ValueType.DIR and isinstance(value, str) and NAME.match(value)
              and value in visit.scope):
            yield context.warning("op-refs", f"bare scope name {value!r} for dir input {name!r} is deprecated; "
                                             f"write $({value})", (*visit.location, "inputs", name))
    for name, param in callee.inputs.items():
        if name not in call.inputs and not param.has_default:
            yield context.problem("op-refs", f"op {call.pkg_ref!r} requires input {name!r} (it has no "
                                             "default) but the call does not bind it",
                                  (*visit.location, "inputs") if call.inputs else visit.location)
    for name, output in call.outputs.items():
        source = output or name
        if source not in callee.outputs:
            yield context.warning("op-refs", f"op {call.pkg_ref!r} declares no output {source!r}; the binding "
                                             "only works if its run leaves that name in scope",
                                  (*visit.location, "outputs", name), at_key=True)


@check("op-cycles")
def op_cycles(context: CheckContext) -> Iterator[Problem]:
    """An op that (through local op calls) calls itself recurses forever: 0.1.5 has no conditions."""
    start = context.op.pkg_dir.resolve()
    for visit, call in context.op_calls():
        cycle = _find_cycle(context, call, context.op.pkg_dir, [start])
        if cycle:
            chain = " -> ".join(str(path) for path in cycle)
            yield context.problem("op-cycles", f"op call cycle: {chain}; the op would call itself forever",
                                  (*visit.location, "pkg", "ref"))


def _find_cycle(context: CheckContext, call: OpCall, caller_dir: Path, stack: list[Path]) -> list[Path] | None:
    try:
        target = context.cache.locate(call.pkg_ref, caller_dir)
    except PkgError:
        return None
    if target is None or not (target / OP_FILE).is_file():
        return None
    target = target.resolve()
    if target == stack[0]:
        return [*stack, target]
    if target in stack:
        return None  # a cycle that does not pass through this op is reported at its own packages
    callee = context.cache.get(target)
    if isinstance(callee, InvalidOpError) or callee.run is None:
        return None
    visits: list[Visit] = []
    _walk(callee.run, ("run",), frozenset(), visits)
    for visit in visits:
        if isinstance(visit.call, OpCall):
            found = _find_cycle(context, visit.call, target, [*stack, target])
            if found:
                return found
    return None


@check("pkg-files")
def pkg_files(context: CheckContext) -> Iterator[Problem]:
    """Package paths (`$(/path)`, bare `/path` and null files/dirs entries) should exist."""
    for visit in context.visits:
        call = visit.call
        if isinstance(call, ContainerCall):
            for kind, mounts in (("files", call.files), ("dirs", call.dirs)):
                for container_path, value in mounts.items():
                    if value is None:
                        yield from _missing_pkg_path(context, container_path, (*visit.location, kind,
                                                                               container_path),
                                                     "bound to the same path of the package")
        for location, text, section in _expressions(visit):
            if section and text.startswith("/"):
                yield from _missing_pkg_path(context, text, location, "a package path")
                continue
            for ref in references(text):
                if ref.startswith("/"):
                    yield from _missing_pkg_path(context, ref, location, f"referenced as $({ref})")


def _missing_pkg_path(context: CheckContext, pkg_path: str, location: Location, why: str) -> Iterator[Problem]:
    if "$(" in pkg_path:
        return
    host = context.op.pkg_dir / pkg_path.lstrip("/")
    if not host.exists():
        yield context.warning("pkg-files", f"{pkg_path!r} ({why}) does not exist in the package", location,
                              at_key=location[-1] == pkg_path)


# -- expressions --------------------------------------------------------------------------------

def _expressions(visit: Visit) -> Iterator[tuple[Location, str, str | None]]:
    """(location, text, "files"/"dirs" or None) of every interpolated string of a call."""
    call, at = visit.call, visit.location
    if isinstance(call, ContainerCall):
        if isinstance(call.image.ref, str):
            yield (*at, "image", "ref"), call.image.ref, None
        if call.image.pull_creds:
            yield from _creds(call.image.pull_creds, (*at, "image", "pullCreds"))
        for index, item in enumerate(call.cmd or ()):
            if isinstance(item, str):
                yield (*at, "cmd", index), item, None
        for name, value in call.env_vars.items():
            if isinstance(value, str):
                yield (*at, "envVars", name), value, None
        for section, mounts in (("files", call.files), ("dirs", call.dirs)):
            for path, value in mounts.items():
                if isinstance(value, str):
                    yield (*at, section, path), value, section
    elif isinstance(call, OpCall):
        if call.pull_creds:
            yield from _creds(call.pull_creds, (*at, "pkg", "pullCreds"))
        for name, value in call.inputs.items():
            if isinstance(value, str):
                yield (*at, "inputs", name), value, None


def _creds(creds: Any, at: Location) -> Iterator[tuple[Location, str, str | None]]:
    for field_name in ("username", "password"):
        value = getattr(creds, field_name)
        if isinstance(value, str):
            yield (*at, field_name), value, None


def _check_refs(context: CheckContext, scope: frozenset[str], location: Location, text: str,
                section: str | None) -> Iterator[Problem]:
    def warn(message: str) -> Problem:
        return context.warning("scope-refs", message, location)

    if _UNCLOSED_REF.search(text):
        yield warn(f"{text!r} opens '$(' without a closing ')': it stays literal text at run time; "
                   "write $(name)")
    if section:
        name = bound_name(text)
        if name:
            # `$(name)` / `name` in files/dirs is an in/out binding: an unknown name is an output. One spelled
            # like a name in scope and declared nowhere is likely a typo that silently binds an empty dir/file.
            if name not in scope and name not in context.op.outputs and (guess := _did_you_mean(name, scope)):
                yield warn(f"{name!r} names nothing in scope, so the container starts with an empty {section[:-1]} "
                           f"here (bound as a new value {name!r}); did you mean $({guess})?")
            if not text.startswith("$("):
                yield warn(f"bare name {text!r} is a deprecated form; write $({text})")
            return
        if text.startswith("/"):
            yield warn(f"bare package path {text!r} is a deprecated form; write $({text})")
            return
        prefix = _UNDER_DIR_REF.match(text)
        if section == "dirs" and prefix and prefix.group(1) not in scope:
            # The reference mounts the host path "/<rest>" here (SEMANTICS §10.7); we refuse.
            yield context.problem("scope-refs", f"{text!r} is a path under $({prefix.group(1)}), which names no "
                                                "input and no value bound earlier; there is no dir to mount",
                                  location)
            return
    for ref in references(text):
        if ref.startswith("/"):
            continue  # package paths: see pkg-files
        if NAME.match(ref):
            if ref not in scope:
                guess = _did_you_mean(ref, scope)
                yield warn(f"$({ref}) names no input and no value bound earlier; it stays literal text at run time"
                           + (f"; did you mean $({guess})?" if guess else ""))
            elif section and text.startswith(f"$({ref})/"):
                yield warn(f"$({ref})/... (a path under a dir value) is a deprecated form"
                           + _whole_dir_instead(ref, text[len(ref) + 4:]))
        elif match := _DIR_PATH_REF.match(ref):
            name = match.group(1)
            yield warn(f"$({ref}) (a path inside dir {name!r}) is a deprecated form"
                       + ("" if name in scope else f"; {name!r} names no input and no value bound earlier")
                       + _whole_dir_instead(name, match.group(2)))
        else:
            yield warn(f"$({ref}) is not an opspec reference and stays literal text (e.g. for a shell to "
                       "expand); opspec has no escape for '$('")


def _whole_dir_instead(name: str, sub_path: str) -> str:
    """What to write instead of a path into a dir value: 0.1.5 refs name a whole value ($(name) or $(/path))."""
    return f"; write $({name}) (the whole dir) and use {sub_path!r} inside it"


_UNCLOSED_REF = re.compile(r"\$\([^)]*$")


def _did_you_mean(name: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return close[0] if close else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
