"""GET /liveness."""

from __future__ import annotations

from ..context import Context
from ..registry import CheckFailed, Endpoint, Level, check


@check("liveness.ok", endpoint=Endpoint.LIVENESS, level=Level.MUST,
       clause="/liveness get: \"Get liveness of node\"; responses '200': \"OK\"",
       title="a node that serves answers GET /liveness with 200")
def liveness_ok(ctx: Context) -> None:
    exchange = ctx.liveness()
    if exchange.status != 200:
        raise CheckFailed(f"GET /liveness: expected 200 (the node is serving this very request), got "
                          f"{exchange.status} {exchange.excerpt()}")
