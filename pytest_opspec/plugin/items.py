"""One pytest item per scenario: ``<package>::call[<name>]``, ``::interpret[...]``, ``::validate[...]``.

What each kind checks (opctl's test-suite semantics; see docs/compatibility.md for the differences):

- ``call``: run the package (or ``opRef``) as a root op with the scope as its args. ``expect: success``
  passes iff the op ends SUCCEEDED, ``expect: failure`` iff it ends FAILED, or cannot even be resolved.
  A KILLED op (e.g. after the timeout) is neither. Then the ``outputs`` and ``snapshot`` extensions.
- ``interpret``: resolve and load the op and bind its inputs from the scope, starting nothing.
- ``validate``: validate op.yml (YAML 1.2, schema, static checks); errors count, warnings do not.

Only ``call`` items need a container engine, and they connect to it on first use.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from .collect import OpPackageDir, OpValidationFailed, check_package
from ..errors import BackendError, OpspecError
from ..events import Outcome
from ..executor.result import RunResult
from ..executor.result import strip_error_frame
from .session import ENGINE_MARKER, live_printer, resources
from ..model import InvalidOpError, Param, load_op
from ..reporting.failures import run_report
from ..model.scenarios import (Expect, Kind, Scenario, container_mismatches, output_mismatches, scenario_ids,
                               scope_args)
from .snapshot import ScenarioSnapshotExtension
from ..values import Value
from ..values.secrets import Secrets, placeholder, secrets_of


class ScenarioFailed(AssertionError):
    """A scenario did not hold; str() is the whole report."""


class ScenarioItem(pytest.Function):
    """A scenario as a test; reported at its line in the scenario file."""

    scenario: Scenario

    @property
    def id(self) -> Any:
        # pytest >= 9 matches the ids it reads back from its cache (--lf, --ff, --sw) in parsed form: the name
        # `call` with params `greets someone`. Built from the item's name, the id would be one name
        # `call[greets someone]` and never match; so give it the parsed form of the same text.
        own = super().id
        return type(own).parse(str(own))

    def reportinfo(self) -> tuple[Path, int, str]:
        position = self.scenario.position()
        return self.scenario.file, (position.line - 1) if position else 0, self.name

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, (ScenarioFailed, OpspecError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def scenario_items(package: OpPackageDir) -> list[pytest.Item]:
    items: list[pytest.Item] = []
    for scenario, name in zip(package.scenarios, scenario_ids(package.scenarios), strict=True):
        run = _RUNNERS[scenario.kind]

        def test(request: pytest.FixtureRequest, scenario: Scenario = scenario, run: Callable[..., None] = run) -> None:
            run(scenario, request)

        test.__doc__ = f"{scenario.label} in {scenario.file}"
        item = ScenarioItem.from_parent(package, name=name, callobj=test)
        item.scenario = scenario
        if scenario.skip is not None:
            item.add_marker(pytest.mark.skip(reason=scenario.skip or f"skip: in {scenario.file.name}"))
        if scenario.kind is Kind.CALL:
            item.add_marker(ENGINE_MARKER)
        if scenario.xfail is not None:
            item.add_marker(pytest.mark.xfail(reason=scenario.xfail or f"xfail: in {scenario.file.name}"))
        items.append(item)
    return items


# -- running ----------------------------------------------------------------------------------------

def _header(scenario: Scenario, config: pytest.Config) -> str:
    return f"{scenario.where(relative_to=config.invocation_params.dir)}: {scenario.label}"


def _inputs(pkg: Path) -> dict[str, Param]:
    """The op's declared inputs, to type plain scope values; none when op.yml does not load (the
    scenario then shows how the op handles that)."""
    try:
        return dict(load_op(pkg).inputs)
    except OpspecError:
        return {}


def run_validate(scenario: Scenario, request: pytest.FixtureRequest) -> None:
    # As in opctl's test-suite: valid means valid YAML 1.2 matching the schema; static-check findings
    # are reported as warnings (a `call` scenario shows whether the op runs).
    report = check_package(request.node.parent, spec_level=True)
    if scenario.expect is Expect.SUCCESS and not report.ok:
        raise OpValidationFailed(report)
    if scenario.expect is Expect.FAILURE and report.ok:
        raise ScenarioFailed(f"{_header(scenario, request.config)}: expected {report.file} to be invalid, "
                             f"but it has no validation errors")


def run_interpret(scenario: Scenario, request: pytest.FixtureRequest) -> None:
    backend = resources(request.config).backend()
    inputs = _inputs(scenario.pkg_dir)
    secrets = _scope_secrets(scenario, inputs)
    try:
        args = scope_args(scenario, inputs, request.config.invocation_params.dir)
        secrets_of(inputs, args, into=secrets)
        bound = backend.interpret(scenario.pkg_dir, args, cwd=scenario.pkg_dir)
    except OpspecError as error:  # a scope value that is no valid arg fails the interpretation too
        if scenario.expect is Expect.SUCCESS:
            raise ScenarioFailed(secrets.mask(f"{_header(scenario, request.config)}: expected interpretation to "
                                              f"succeed; it failed:\n{strip_error_frame(str(error))}")) from None
        return
    if scenario.expect is Expect.FAILURE:
        secrets_of(inputs, bound, into=secrets)  # defaults of secret inputs too
        shown = ", ".join(f"{name}={_shown_input(name, value, inputs)}" for name, value in sorted(bound.items()))
        raise ScenarioFailed(secrets.mask(f"{_header(scenario, request.config)}: expected interpretation to fail, "
                                          f"but the inputs bound: {shown or 'no inputs'}"))


def _shown_input(name: str, value: Value, inputs: dict[str, Param]) -> Any:
    return {value.type.value: placeholder(name)} if inputs[name].is_secret else value.to_json()


def _scope_secrets(scenario: Scenario, inputs: dict[str, Param]) -> Secrets:
    """The scenario's values for secret inputs as written (for messages about a scope that did not bind)."""
    secrets = Secrets()
    for name, raw in scenario.scope.items():
        param = inputs.get(name)
        if param is not None and param.is_secret:
            written = next(iter(raw.values())) if isinstance(raw, dict) and len(raw) == 1 else raw
            secrets.add_text(name, written if isinstance(written, str) else json.dumps(written))
    return secrets


def run_call(scenario: Scenario, request: pytest.FixtureRequest) -> None:
    config = request.config
    session = resources(config)
    backend = session.backend()
    header = _header(scenario, config)
    try:
        package = session.packages.resolve(scenario.op_ref, [scenario.pkg_dir]) if scenario.op_ref else None
    except OpspecError as error:  # a broken test, whatever it expects
        raise ScenarioFailed(f"{header}: the package does not resolve: {error}") from None
    try:
        inputs = dict(load_op(package.dir if package else scenario.pkg_dir).inputs)
    except InvalidOpError as error:  # the op cannot fail (or succeed) for the reason the scenario means
        raise ScenarioFailed(f"{header}: the op cannot {'fail' if scenario.expect is Expect.FAILURE else 'run'} for "
                             f"the right reason: its op.yml is invalid:\n"
                             + "\n".join(p.relative_to(config.invocation_params.dir).format() for p in error.errors)
                             ) from None
    copies = session.arg_copies()
    try:
        try:
            args = scope_args(scenario, inputs, config.invocation_params.dir)
            started_args, folder = copies.copy(args)
            # A remote opRef starts by its ref, so the run reports its provenance.
            started = backend.start(scenario.op_ref or scenario.pkg_dir, started_args, cwd=scenario.pkg_dir,
                                    limits=scenario.limits,
                                    on_event=live_printer(config, package.dir if package else scenario.pkg_dir, args))
        except BackendError:  # no engine or no node: not an op that fails
            raise
        except OpspecError as error:  # args the op refuses: the call fails before it runs
            _not_started(scenario, header, _scope_secrets(scenario, inputs).mask(str(error)))
            return
        timeout = scenario.timeout or session.settings.timeout
        result = started.finish(timeout)
        if folder is not None:
            result.stable_paths = {str(folder): "<args>"}
        try:
            _check_call(scenario, request, result, args, inputs, header, timeout)
        finally:
            backend.release(result.op_id)
    finally:
        copies.close()


def _not_started(scenario: Scenario, header: str, error: str) -> None:
    """The op refused its args before it ran: a failed call (for the reason ``error:`` names, if any)."""
    if scenario.expect is Expect.SUCCESS:
        raise ScenarioFailed(f"{header}: expected the op to succeed; it could not be started:\n{error}")
    _check_reason(scenario, header, error)


def _check_reason(scenario: Scenario, header: str, error: str) -> None:
    if scenario.error is not None and re.search(scenario.error, error) is None:
        raise ScenarioFailed(f"{header}: the op failed, but its error does not match {scenario.error!r}:\n"
                             f"{strip_error_frame(error) or '(no error message)'}")


def _check_call(
    scenario: Scenario, request: pytest.FixtureRequest, result: RunResult, args: dict[str, Value],
    inputs: dict[str, Param], header: str, timeout: float,
) -> None:
    def report() -> str:
        secrets = frozenset(name for name, param in inputs.items() if param.is_secret)
        return run_report(result, args=args, secret_inputs=secrets, relative_to=request.config.invocation_params.dir)

    wanted = Outcome.SUCCEEDED if scenario.expect is Expect.SUCCESS else Outcome.FAILED
    if result.timed_out:
        raise ScenarioFailed(f"{header}: the op did not end within {timeout:g} s and was killed "
                             f"(a killed op is neither a success nor an expected failure)\n{report()}")
    if result.outcome is not wanted:
        verb = "succeed" if wanted is Outcome.SUCCEEDED else "fail"
        ended = result.outcome.value if result.outcome else "without an outcome"
        raise ScenarioFailed(f"{header}: expected the op to {verb}; it ended {ended}\n{report()}")
    if wanted is Outcome.FAILED and scenario.error is not None and not re.search(scenario.error, result.error or ""):
        raise ScenarioFailed(f"{header}: the op failed, but its error does not match {scenario.error!r}\n{report()}")
    shown_from = request.config.invocation_params.dir
    differences: list[str] = []
    if scenario.outputs is not None:
        declared = _declared_outputs(Path(result.pkg_ref) if os.path.isabs(result.pkg_ref) else scenario.pkg_dir)
        problems = output_mismatches(scenario.outputs, result.values, declared)
        if problems:
            where = scenario.where(scenario.kind.value, "outputs", relative_to=shown_from)
            differences += [f"{where}: {scenario.label}: outputs differ:", *(f"  {p}" for p in problems)]
    if scenario.containers is not None:
        problems = container_mismatches(scenario.containers, result.containers)
        if problems:
            where = scenario.where(scenario.kind.value, "containers", relative_to=shown_from)
            differences += [f"{where}: {scenario.label}: containers differ:", *(f"  {p}" for p in problems)]
    if differences:
        raise ScenarioFailed(result.mask("\n".join(differences)) + f"\n{report()}")
    if scenario.snapshot:
        _check_snapshot(scenario, request, result)


def _declared_outputs(pkg: Path) -> dict[str, Param]:
    try:
        return dict(load_op(pkg).outputs)
    except OpspecError:
        return {}


def _check_snapshot(scenario: Scenario, request: pytest.FixtureRequest, result: RunResult) -> None:
    snapshot = request.getfixturevalue("snapshot").use_extension(ScenarioSnapshotExtension.for_config(request.config))
    if snapshot == result:
        return
    config = request.config
    diff = snapshot.get_assert_diff()
    if config.option.no_colors:  # syrupy's own switch (disable_color) exists only in some versions
        diff = [_ANSI_STYLE.sub("", line) for line in diff]
    where = scenario.where(scenario.kind.value, "snapshot", relative_to=config.invocation_params.dir)
    raise ScenarioFailed(f"{where}: {scenario.label}: the run differs from its snapshot (update it with "
                         f"--snapshot-update):\n"
                         + "\n".join(diff))


_ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")

_RUNNERS: dict[Kind, Callable[[Scenario, pytest.FixtureRequest], None]] = {
    Kind.CALL: run_call, Kind.INTERPRET: run_interpret, Kind.VALIDATE: run_validate,
}
