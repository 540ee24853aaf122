"""POST /ops/kills."""

from __future__ import annotations

import secrets

from .. import events
from ..context import OPS_KILLS, Context
from ..registry import CheckDisabled, CheckFailed, CheckSkipped, Clause, Endpoint, Level, check
from ..scenarios import OP_RUN_ID_WAIT, REMOVAL_GRACE, KillRun, kill_run, op_run_id_kill
from .ops_starts import BAD_REQUEST, expect_400

KILLS = "/ops/kills post: \"Kills an op\""


@check("ops.kills.kill-running", endpoint=Endpoint.OPS_KILLS, level=Level.MUST,
       clause=f"{KILLS}; responses '204': \"No Content\"; OpEndedEvent outcome: KILLED",
       title="killing a running op answers 204 and the op ends KILLED")
def kill_running(ctx: Context) -> None:
    run = ctx.scenario(kill_run)
    problems = []
    if run.kill.status != 204:
        problems.append(f"{run.kill.describe()}: expected 204 {run.kill.excerpt()}")
    if run.end_error is not None:
        problems.append(run.end_error)
    elif events.field(run.ended.document if run.ended else None, "outcome") != "KILLED":
        problems.append(f"the killed op ended {events.describe(run.events[-1])}, expected outcome KILLED")
    if problems:
        raise CheckFailed("\n".join(problems))


def _observed(run: KillRun) -> str:
    """The killed op's container id, once it is known to be observable on the engine."""
    if run.engine_reason:
        raise CheckDisabled(run.engine_reason)
    if run.container_id is None:
        raise CheckFailed("the sleeper's container printed 'ready' but no containerStarted event named it")
    if run.state_before is None:
        raise CheckSkipped(f"no container named {run.container_id} (the containerStarted event's containerId) "
                           "exists on the engine while the op runs, so its containers cannot be observed")
    return run.container_id


@check("ops.kills.containers-stopped", endpoint=Endpoint.OPS_KILLS, level=Level.MUST,
       clause=Clause(f"{KILLS}; \"An op is an orchestration of (a) containerized process(es)\"",
                     "killing the op stops its processes"),
       title="once a killed op ended, none of its containers runs")
def containers_stopped(ctx: Context) -> None:
    run = ctx.scenario(kill_run)
    container_id = _observed(run)
    if run.state_at_end is not None and run.state_at_end.running:
        raise CheckFailed(f"container {container_id} is still running after the kill"
                          + (" and the op's opEnded" if run.ended else ""))


@check("ops.kills.containers-removed", endpoint=Endpoint.OPS_KILLS, level=Level.SHOULD,
       clause=Clause(KILLS, "SEMANTICS §8: the node force-removes the op's containers before it answers",
                     reference_only=True),
       title="a killed op's containers are removed")
def containers_removed(ctx: Context) -> None:
    run = ctx.scenario(kill_run)
    container_id = _observed(run)
    if run.removed_within is None:
        state = run.state_at_end.status if run.state_at_end else "unknown"
        raise CheckFailed(f"container {container_id} still exists ({state}) {REMOVAL_GRACE:g} s after the kill "
                          "ended the op")


@check("ops.kills.unknown-id", endpoint=Endpoint.OPS_KILLS, level=Level.MUST,
       clause=f"{KILLS}; responses '204': \"No Content\", {BAD_REQUEST}",
       title="killing an unknown op id is answered 204 (a no-op) or 400, never a server error")
def unknown_id(ctx: Context) -> None:
    exchange = ctx.post_json(OPS_KILLS, {"opId": f"conformance-unknown-{secrets.token_hex(8)}"})
    if exchange.status not in (204, 400):
        raise CheckFailed(f"{exchange.describe()}: expected 204 or 400 {exchange.excerpt()}")


@check("ops.kills.op-id-required", endpoint=Endpoint.OPS_KILLS, level=Level.MUST,
       clause=f"requestBody schema: required: - opId; opId: type: string; {BAD_REQUEST}",
       title="a kill without a string opId is a 400")
def op_id_required(ctx: Context) -> None:
    expect_400(ctx, OPS_KILLS, [
        ("no opId", {}),
        ("opId is a number", {"opId": 5}),
        ("opId is null", {"opId": None}),
        ("the body is an array", [{"opId": "x"}]),
    ])


@check("ops.kills.malformed-json", endpoint=Endpoint.OPS_KILLS, level=Level.MUST,
       clause=f"requestBody content: application/json, required: true; {BAD_REQUEST}",
       title="a kill body that is not JSON is a 400")
def malformed_json(ctx: Context) -> None:
    expect_400(ctx, OPS_KILLS, [
        ("truncated JSON", b'{"opId": "'),
        ("not JSON", b"opId=x"),
        ("an empty body", b""),
    ])


@check("ops.kills.op-run-id", endpoint=Endpoint.OPS_KILLS, level=Level.SHOULD,
       clause=Clause(f"{KILLS}; requestBody schema: required: - opId; {BAD_REQUEST}",
                     "the upstream spec names the field opRunId (SEMANTICS §9, §10.17: accept both); a node that "
                     "does not must refuse the body, which lacks opId", reference_only=True),
       title="a kill naming the op only as opRunId kills it, or is a 400; never a success that kills nothing")
def op_run_id(ctx: Context) -> None:
    run = ctx.scenario(op_run_id_kill)
    kill = run.kill
    body = f"{kill.describe()} with body {{\"opRunId\": \"{run.op_id}\"}}"
    if kill.status == 400:
        return
    if not 200 <= kill.status < 300:
        raise CheckFailed(f"{body}: expected 204 (and the op KILLED) or 400 {kill.excerpt()}")
    if run.ended is None:
        raise CheckFailed(f"{body}, but the op still ran {min(ctx.config.timeout, OP_RUN_ID_WAIT):g} s later: "
                          "the node ignored opRunId and claimed success")
    outcome = events.field(run.ended.document, "outcome")
    if outcome != "KILLED":
        raise CheckFailed(f"{body}: the op ended {outcome!r}, expected KILLED")
