"""Every HTTP answer any check received, judged against the OpenAPI rendering of the node API: one
check per endpoint, run last. Each also makes a few requests of its own, so it judges something when
it runs alone."""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlencode

from ..context import LIVENESS, OPS_KILLS, OPS_STARTS, PKG_CONTENT, PKG_CONTENTS, Context
from ..pkgs import BLOB, FILES, MISSING
from ..profiles import PROFILES
from ..registry import CheckFailed, Endpoint, Level, Phase, check
from ..scenarios import quick_run
from ..spec import ApiSpec
from ..transport import EventStream, StreamRefused

CLAUSE = ("\"Nodes MUST implement the node API\"; API constraints: \"MUST validate against the API spec\" "
          "(status codes, documented headers, body schemas)")
SHOWN = 10


def _judge(ctx: Context, templates: tuple[str, ...], probe: Callable[[Context], None]) -> None:
    probe(ctx)
    spec = ApiSpec(PROFILES[ctx.config.profile].api_document)
    problems = []
    judged = 0
    for exchange in ctx.exchanges:
        if exchange.template not in templates:
            continue
        judged += 1
        problems += [f"[{exchange.check_id}] {exchange.describe()}: {problem}" for problem in spec.problems(exchange)]
    if problems:
        more = f"\n... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise CheckFailed(f"{len(problems)} problems in {judged} answers:\n" + "\n".join(problems[:SHOWN]) + more)


def _probe_liveness(ctx: Context) -> None:
    ctx.liveness()


def _probe_starts(ctx: Context) -> None:
    ctx.scenario(quick_run)
    ctx.post_json(OPS_STARTS, b"{")


def _probe_kills(ctx: Context) -> None:
    ctx.post_json(OPS_KILLS, {})
    ctx.post_json(OPS_KILLS, {"opId": "conformance-unknown-op"})


def _probe_events(ctx: Context) -> None:
    ctx.open_stream(ctx.since_now()).close()
    ctx.request("GET", EventStream.TEMPLATE, template=EventStream.TEMPLATE)
    try:
        ctx.stream(urlencode({"since": "not-a-time"})).close()
    except StreamRefused:
        pass


def _probe_pkgs(ctx: Context) -> None:
    ref = ctx.packages.ref(FILES)
    ctx.listing(ref)
    ctx.listing(ctx.packages.ref(MISSING))
    for method in ("GET", "HEAD"):
        ctx.content(ref, "/data/blob.bin", method=method)
    for header in ("bytes=0-9", "bytes=0-1,5-6", f"bytes={len(BLOB) + 1}-"):
        ctx.content(ref, "/data/blob.bin", headers={"Range": header})
    ctx.content(ref, "/data/no-such-file.txt")


@check("liveness.responses-match-spec", endpoint=Endpoint.LIVENESS, level=Level.MUST, phase=Phase.LAST,
       clause=CLAUSE, title="every /liveness answer matches the API document")
def liveness_responses(ctx: Context) -> None:
    _judge(ctx, (LIVENESS,), _probe_liveness)


@check("ops.starts.responses-match-spec", endpoint=Endpoint.OPS_STARTS, level=Level.MUST, phase=Phase.LAST,
       clause=CLAUSE, title="every /ops/starts answer matches the API document")
def starts_responses(ctx: Context) -> None:
    _judge(ctx, (OPS_STARTS,), _probe_starts)


@check("ops.kills.responses-match-spec", endpoint=Endpoint.OPS_KILLS, level=Level.MUST, phase=Phase.LAST,
       clause=CLAUSE, title="every /ops/kills answer matches the API document")
def kills_responses(ctx: Context) -> None:
    _judge(ctx, (OPS_KILLS,), _probe_kills)


@check("events.stream.responses-match-spec", endpoint=Endpoint.EVENTS_STREAM, level=Level.MUST, phase=Phase.LAST,
       clause=CLAUSE, title="every /events/stream handshake answer matches the API document")
def events_responses(ctx: Context) -> None:
    _judge(ctx, (EventStream.TEMPLATE,), _probe_events)


@check("pkgs.contents.responses-match-spec", endpoint=Endpoint.PKGS_CONTENTS, level=Level.MUST, phase=Phase.LAST,
       clause=CLAUSE, title="every /pkgs/{ref}/contents[/{path}] answer matches the API document")
def pkgs_responses(ctx: Context) -> None:
    _judge(ctx, (PKG_CONTENTS, PKG_CONTENT), _probe_pkgs)
