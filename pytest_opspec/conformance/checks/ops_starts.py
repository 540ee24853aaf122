"""POST /ops/starts."""

from __future__ import annotations

import json
from typing import Any

from .. import events
from ..context import OPS_STARTS, Context, op_id_of
from ..pkgs import MISSING, QUICK
from ..registry import CheckFailed, CheckSkipped, Endpoint, Level, check
from ..scenarios import quick_run

BAD_REQUEST = "responses '400': \"Bad Request\""


def expect_400(ctx: Context, path: str, cases: list[tuple[str, Any]]) -> None:
    """POST each body (JSON-encoded unless bytes); every one must get 400."""
    wrong = []
    for description, body in cases:
        exchange = ctx.post_json(path, body)
        if exchange.status != 400:
            wrong.append(f"{description}: {exchange.describe()} {exchange.excerpt(120)}")
    if wrong:
        raise CheckFailed("expected 400 Bad Request for each of these requests, got:\n" + "\n".join(wrong))


@check("ops.starts.valid-start", endpoint=Endpoint.OPS_STARTS, level=Level.MUST,
       clause="/ops/starts post: \"Starts an op\"; responses '201': \"Created\", schema: "
              "description: 'The id of the [started] op', type: string",
       title="a valid start is answered 201 with the op's id")
def valid_start(ctx: Context) -> None:
    run = ctx.scenario(quick_run).run
    if run.start.status != 201:
        raise CheckFailed(f"{run.start.describe()}: expected 201")
    if run.op_id != run.op_id.strip():
        raise CheckFailed(f"the op id {run.op_id!r} has surrounding whitespace")


@check("ops.starts.op-runs", endpoint=Endpoint.OPS_STARTS, level=Level.MUST,
       clause="/ops/starts post: \"Starts an op\"; '201' schema: description: 'The id of the [started] op'",
       title="the started op runs under the returned id and succeeds")
def op_runs(ctx: Context) -> None:
    run = ctx.scenario(quick_run).run
    started = [m for m in run.events if events.event_type(m.document) == "opStarted"
               and events.field(m.document, "opId") == run.op_id]
    if not started:
        raise CheckFailed(f"no opStarted with opId {run.op_id} (the id the 201 returned) among the root's "
                          f"{len(run.events)} events")
    if run.outcome != "SUCCEEDED":
        raise CheckFailed(f"the op ended {run.outcome!r}, expected SUCCEEDED: {events.describe(run.ended)}")


@check("ops.starts.args-reach-op", endpoint=Endpoint.OPS_STARTS, level=Level.MUST,
       clause="requestBody args: \"arguments passed to the op to satisfy inputs\"",
       title="args satisfy the op's inputs")
def args_reach_op(ctx: Context) -> None:
    quick = ctx.scenario(quick_run)
    printed = "".join(events.output_text(m.document) for m in quick.run.events)
    if f"hello {quick.who}" not in printed:
        raise CheckFailed(f"the op was started with args.who = {{\"string\": \"{quick.who}\"}} and prints "
                          f"\"hello $who\", but its output was {printed!r}")


@check("ops.starts.json-id", endpoint=Endpoint.OPS_STARTS, level=Level.MAY,
       clause="responses '201' content: application/json: schema: type: string; text/plain: schema: type: string",
       title="asked for application/json, the 201 body is the id as a JSON string")
def json_id(ctx: Context) -> None:
    exchange = ctx.post_json(OPS_STARTS, ctx.start_body(QUICK), headers={"Accept": "application/json"})
    if exchange.status != 201:
        raise CheckFailed(f"{exchange.describe()}: expected 201 {exchange.excerpt()}")
    if exchange.content_type != "application/json":
        raise CheckSkipped(f"the node answers {exchange.content_type or 'without a Content-Type'} even when "
                           "asked for application/json (the seed allows either)")
    op_id_of(exchange)


@check("ops.starts.malformed-json", endpoint=Endpoint.OPS_STARTS, level=Level.MUST,
       clause=f"requestBody content: application/json, required: true; {BAD_REQUEST}",
       title="a body that is not JSON is a 400")
def malformed_json(ctx: Context) -> None:
    ref = json.dumps(ctx.packages.ref(QUICK))
    expect_400(ctx, OPS_STARTS, [
        ("truncated JSON", f'{{"pkg": {{"ref": {ref}'.encode()),
        ("not JSON", b"pkg=quick"),
        ("an empty body", b""),
    ])


@check("ops.starts.pkg-required", endpoint=Endpoint.OPS_STARTS, level=Level.MUST,
       clause=f"requestBody schema: required: - pkg; pkg: required: - ref; {BAD_REQUEST}",
       title="a body without pkg or pkg.ref is a 400")
def pkg_required(ctx: Context) -> None:
    expect_400(ctx, OPS_STARTS, [
        ("no pkg", {}),
        ("args but no pkg", {"args": {"who": {"string": "x"}}}),
        ("pkg without ref", {"pkg": {}}),
        ("pkg with pullCreds but no ref", {"pkg": {"pullCreds": {"username": "u", "password": "p"}}}),
    ])


@check("ops.starts.wrong-value-shapes", endpoint=Endpoint.OPS_STARTS, level=Level.MUST,
       clause="args: type: object, additionalProperties: $ref: '#/components/schemas/Value' (\"a typed value\": "
              f"array, dir, file, number, object, socket or string); {BAD_REQUEST}",
       title="args that are not typed Values are a 400")
def wrong_value_shapes(ctx: Context) -> None:
    def body(args: Any) -> dict[str, Any]:
        return {**ctx.start_body(QUICK), "args": args}

    expect_400(ctx, OPS_STARTS, [
        ("args is an array", body([{"string": "x"}])),
        ("args is a string", body("who=x")),
        ("a bare string Value", body({"who": "x"})),
        ("a bare number Value", body({"who": 5})),
        ("number holding a string", body({"who": {"number": "1"}})),
        ("string holding a number", body({"who": {"string": 1}})),
        ("array holding an object", body({"who": {"array": {"a": 1}}})),
        ("object holding an array", body({"who": {"object": [1]}})),
    ])


@check("ops.starts.unresolvable-pkg", endpoint=Endpoint.OPS_STARTS, level=Level.MUST,
       clause=f"pkg ref: \"reference to a pkg\"; {BAD_REQUEST} (a package that does not exist is the client's "
              "error, not the node's: '500' is \"Internal Server Error\")",
       title="a package ref that does not resolve is a 400")
def unresolvable_pkg(ctx: Context) -> None:
    expect_400(ctx, OPS_STARTS, [("a ref to a package that does not exist", ctx.start_body(MISSING))])
