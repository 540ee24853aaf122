"""Mutation tests of the suite: deliberately broken variants of the bundled node must fail exactly the
checks that test what was broken (a check that cannot fail is a defect; so is one that fails for an
unrelated reason). Each variant runs the checks of the endpoint it breaks; test_full_run proves the
unbroken node passes everything.

The breakages are monkeypatches of the node's own modules, applied before the node is created.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from pytest_opspec.conformance.runner import Outcome
from pytest_opspec.events import broker
from pytest_opspec.events.broker import Subscription
from pytest_opspec.events.store import Record
from pytest_opspec.node import events_stream, liveness, ops_kills, ops_starts, pkgs_contents
from pytest_opspec.node.errors import ApiError, Code
from pytest_opspec.node.routing import Route
from pytest_opspec.pkgs.beneath import BeneathError
from pytest_opspec.runtime.docker import DockerRuntime

from .conftest import NodeStarter, describe, outcomes, run_suite

Handler = Callable[..., Any]


def wrap_route(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, wrap: Callable[[Handler], Handler]) -> None:
    """Replace each handler of ``module.<name>`` (a Route) by ``wrap(handler)``, for apps created later."""
    route = getattr(module, name)
    monkeypatch.setattr(module, name, Route(route.template, {m: wrap(h) for m, h in route.methods.items()}))


def kills_answer_200(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A wrong status code: 200 instead of the seed's 204 for a kill."""
    def wrap(handler: Handler) -> Handler:
        async def answer_200(request: web.Request, node: Any, params: Any) -> web.StreamResponse:
            response = await handler(request, node, params)
            if response.status == 204:
                response.set_status(200)
            return response
        return answer_200

    wrap_route(monkeypatch, ops_kills, "ROUTE", wrap)
    return {}


def rewrite_events(monkeypatch: pytest.MonkeyPatch, change: Callable[[dict[str, Any]], None]) -> None:
    encode = broker.encode

    def rewritten(event: Any) -> Record:
        record = encode(event)
        document = json.loads(record.payload)
        change(document)
        return Record(record.seq, record.timestamp_ns, record.root_op_id, json.dumps(document).encode())

    monkeypatch.setattr(broker, "encode", rewritten)


def op_started_without_pkg_ref(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A missing event field the schema does not require: opStarted without pkgRef."""
    rewrite_events(monkeypatch, lambda document: document.get("opStarted", {}).pop("pkgRef", None))
    return {}


def events_without_timestamp(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A missing event field the schema requires: every event without its timestamp."""
    rewrite_events(monkeypatch, lambda document: document.pop("timestamp", None))
    return {}


def duplicate_at_switch(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The reference's bug (SEMANTICS §10.16): the last replayed event is sent again when live ones start."""
    next_batch = Subscription.next_batch
    last_replayed: dict[int, Record] = {}
    switched: set[int] = set()

    async def with_duplicate(self: Subscription) -> list[Record]:
        records = await next_batch(self)
        key = id(self)
        if key in switched:
            return records
        live = next((i for i, record in enumerate(records) if record.seq > self._start_head), None)
        replayed = records if live is None else records[:live]
        if replayed:
            last_replayed[key] = replayed[-1]
        if live is not None:
            switched.add(key)
            if key in last_replayed:
                return [*records[:live], last_replayed[key], *records[live:]]
        return records

    monkeypatch.setattr(Subscription, "next_batch", with_duplicate)
    return {}


def gap_at_switch(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Events lost at the switch from replay to live: a stream that joins an op (since and roots) loses its
    first live batch."""
    next_batch = Subscription.next_batch
    switched: set[int] = set()

    async def with_gap(self: Subscription) -> list[Record]:
        records = await next_batch(self)
        if id(self) in switched or self.since_ns is None or not self.roots:
            return records
        live = next((i for i, record in enumerate(records) if record.seq > self._start_head), None)
        if live is None:
            return records
        switched.add(id(self))
        return records[:live]

    monkeypatch.setattr(Subscription, "next_batch", with_gap)
    return {}


def range_ignored(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """No Range support: the Range header never reaches the content handler."""
    def wrap(handler: Handler) -> Handler:
        async def without_range(request: web.Request, node: Any, params: Any) -> web.StreamResponse:
            headers = CIMultiDict(request.headers)
            headers.popall("Range", None)
            return await handler(request.clone(headers=CIMultiDictProxy(headers)), node, params)
        return without_range

    wrap_route(monkeypatch, pkgs_contents, "CONTENT_ROUTE", wrap)
    return {}


def traversal_allowed(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """No traversal guard: content paths are joined onto the package dir as they come."""
    def joined(pkg_dir: str | Path, path: str) -> int:
        target = Path(os.path.join(pkg_dir, path.lstrip("/")))
        if not target.exists():
            raise BeneathError(BeneathError.MISSING, f"the package has no {path}")
        if not target.is_file():
            raise BeneathError(BeneathError.NOT_A_FILE, f"{path} is not a file")
        return os.open(target, os.O_RDONLY)

    monkeypatch.setattr(pkgs_contents, "open_content", joined)
    return {}


class StoppingRuntime(DockerRuntime):
    """Kills stop a container (SIGKILL) but leave it in place."""

    def kill(self, name: str) -> None:
        self._killed.add(name)
        try:
            self._api.call("POST", f"/containers/{name}/kill")
        except Exception:
            pass  # already stopped


def kill_leaves_container(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A kill that ends the op but leaves its (stopped) container behind."""
    monkeypatch.setattr(ops_kills, "_kill", lambda executor, op_id: executor.kill(op_id)
                        and executor.wait(op_id, ops_kills.KILL_WAIT))
    return {"runtime": StoppingRuntime(keep_containers=True), "keep_containers": True}


def kill_does_nothing(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A kill that checks its request and answers 204, but kills nothing."""
    monkeypatch.setattr(ops_kills, "_kill", lambda executor, op_id: None)
    return {}


def answer_instead_of_400(status: int) -> Callable[[Handler], Handler]:
    """Handlers whose 400s (bad requests) are answered with ``status`` and an empty body instead."""
    def wrap(handler: Handler) -> Handler:
        async def lenient(request: web.Request, node: Any, params: Any) -> web.StreamResponse:
            try:
                return await handler(request, node, params)
            except ApiError as error:
                if error.status != 400:
                    raise
                return web.Response(status=status)
        return lenient
    return wrap


def liveness_answers_204(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    def wrap(handler: Handler) -> Handler:
        async def answer_204(request: web.Request, node: Any, params: Any) -> web.StreamResponse:
            await handler(request, node, params)
            return web.Response(status=204)
        return answer_204

    wrap_route(monkeypatch, liveness, "ROUTE", wrap)
    return {}


def starts_answer_422(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Bad starts answered 422, a status the seed does not list."""
    wrap_route(monkeypatch, ops_starts, "ROUTE", answer_instead_of_400(422))
    return {}


def start_errors_are_500(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The reference's behaviour: a missing pkg and an unresolvable package are 500s (SEMANTICS §9)."""
    def wrap(handler: Handler) -> Handler:
        async def as_500(request: web.Request, node: Any, params: Any) -> web.StreamResponse:
            try:
                return await handler(request, node, params)
            except ApiError as error:
                if error.code in (Code.PKG_REQUIRED, Code.PKG_NOT_FOUND, Code.INVALID_REQUEST):
                    raise ApiError(500, Code.INTERNAL_ERROR, error.message) from None
                raise
        return as_500

    wrap_route(monkeypatch, ops_starts, "ROUTE", wrap)
    return {}


def args_dropped(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Args are checked but never reach the op."""
    check_args = ops_starts._args
    monkeypatch.setattr(ops_starts, "_args", lambda body: check_args(body) and {})
    return {}


def kills_accept_anything(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Bad kill requests answered 204."""
    wrap_route(monkeypatch, ops_kills, "ROUTE", answer_instead_of_400(204))
    return {}


def plain_get_426(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A GET without Upgrade headers answered 426 Upgrade Required, which the seed does not list."""
    def wrap(handler: Handler) -> Handler:
        async def upgrade_required(request: web.Request, node: Any, params: Any) -> web.StreamResponse:
            if request.headers.get("Upgrade", "").lower() != "websocket":
                return web.Response(status=426)
            return await handler(request, node, params)
        return upgrade_required

    wrap_route(monkeypatch, events_stream, "ROUTE", wrap)
    return {}


def filters_ignored(keep_since: bool, keep_roots: bool, reject_bad_since: bool = True) -> Callable[..., Any]:
    def mutate(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        parse = events_stream.parse_filters

        def parse_filters(raw_query: str) -> tuple[int | None, frozenset[str]]:
            try:
                since_ns, roots = parse(raw_query)
            except ApiError:
                if reject_bad_since:
                    raise
                since_ns, roots = None, frozenset()
            return (since_ns if keep_since else None), (roots if keep_roots else frozenset())

        monkeypatch.setattr(events_stream, "parse_filters", parse_filters)
        return {}
    return mutate


def since_years_limited(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A since outside the years 1678-2262 (64-bit ns) refused, though RFC 3339 allows 0001-9999."""
    parse = events_stream.parse_filters

    def limited(raw_query: str) -> tuple[int | None, frozenset[str]]:
        since_ns, roots = parse(raw_query)
        if since_ns is not None and not -(2**63) < since_ns < 2**63 - 1:
            raise ApiError(400, Code.INVALID_SINCE, "since: out of range")
        return since_ns, roots

    monkeypatch.setattr(events_stream, "parse_filters", limited)
    return {}


def listing_with_go_keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The reference's listing keys: Path, Size, Mode (SEMANTICS §9)."""
    list_contents = pkgs_contents.list_contents
    monkeypatch.setattr(pkgs_contents, "list_contents", lambda directory: [
        {key.capitalize(): value for key, value in entry.items()} for entry in list_contents(directory)])
    return {}


def listing_without_modes(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Listing entries without their mode (the seed's schema requires no property)."""
    list_contents = pkgs_contents.list_contents
    monkeypatch.setattr(pkgs_contents, "list_contents", lambda directory: [
        {key: value for key, value in entry.items() if key != "mode"} for entry in list_contents(directory)])
    return {}


def listing_modes_without_type_bits(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    list_contents = pkgs_contents.list_contents
    monkeypatch.setattr(pkgs_contents, "list_contents", lambda directory: [
        {**entry, "mode": entry["mode"] & 0o777} for entry in list_contents(directory)])
    return {}


def content_corrupted(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Every chunk of file content served with its first byte changed."""
    read_at = pkgs_contents._read_at

    def corrupted(handle: Any, position: int, size: int) -> bytes:
        data = read_at(handle, position, size)
        return bytes([data[0] ^ 0xFF]) + data[1:] if data else data

    monkeypatch.setattr(pkgs_contents, "_read_at", corrupted)
    return {}


def head_unsupported(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """HEAD of content answered 405, as the reference does, though the seed declares it."""
    route = pkgs_contents.CONTENT_ROUTE
    monkeypatch.setattr(pkgs_contents, "CONTENT_ROUTE", Route(route.template, {"GET": route.methods["GET"]}))
    return {}


def http_layer_answers(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The answers of Go's HTTP layer, as the reference gives them before routing: 400 for an invalid
    percent-escape in the path, 301 to the normal form for a dot-segment. Not a deviation."""
    def wrap(handler: Handler) -> Handler:
        async def like_go(request: web.Request, node: Any, params: Any) -> web.StreamResponse:
            segments = request.raw_path.split("?")[0].split("/")
            if re.search(r"%(?![0-9A-Fa-f]{2})", request.raw_path.split("?")[0]):
                return web.Response(status=400, text="400 Bad Request: invalid URL escape")
            if any(segment.lower() in ("..", "%2e%2e", ".", "%2e") for segment in segments):
                return web.Response(status=301, headers={"Location": "/"})
            return await handler(request, node, params)
        return like_go

    wrap_route(monkeypatch, pkgs_contents, "CONTENT_ROUTE", wrap)
    wrap_route(monkeypatch, pkgs_contents, "LIST_ROUTE", wrap)
    return {}


def directory_with_broken_length(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The reference's framing for a directory: Content-Length 9223372036854775807, then too few bytes."""
    def wrap(handler: Handler) -> Handler:
        async def broken(request: web.Request, node: Any, params: Any) -> web.StreamResponse:
            if params.get("path", "").strip("/") != "data":
                return await handler(request, node, params)
            response = web.StreamResponse(status=200, headers={"Content-Length": str(2**63 - 1)})
            await response.prepare(request)
            await response.write(b"read /data: is a directory")
            request.transport.close()  # type: ignore[union-attr]
            return response
        return broken

    wrap_route(monkeypatch, pkgs_contents, "CONTENT_ROUTE", wrap)
    return {}


def kills_ignore_op_run_id(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The reference's kill: the upstream spec's opRunId is ignored, and the answer says success anyway."""
    def wrap(handler: Handler) -> Handler:
        async def without_op_run_id(request: web.Request, node: Any, params: Any) -> web.StreamResponse:
            body = await request.read()
            try:
                document = json.loads(body)
            except ValueError:
                document = None
            if isinstance(document, dict) and "opRunId" in document and "opId" not in document:
                return web.Response(status=204)
            return await handler(request, node, params)  # its body stays readable (aiohttp keeps it)
        return without_op_run_id

    wrap_route(monkeypatch, ops_kills, "ROUTE", wrap)
    return {}


def missing_content_is_500(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The reference's behaviour: a missing file is a 500 (SEMANTICS §9)."""
    def wrap(handler: Handler) -> Handler:
        async def as_500(request: web.Request, node: Any, params: Any) -> web.StreamResponse:
            try:
                return await handler(request, node, params)
            except ApiError as error:
                if error.code is Code.CONTENT_NOT_FOUND:
                    raise ApiError(500, Code.PKG_READ_FAILED, error.message) from None
                raise
        return as_500

    wrap_route(monkeypatch, pkgs_contents, "CONTENT_ROUTE", wrap)
    return {}


@dataclass(frozen=True)
class Variant:
    mutate: Callable[[pytest.MonkeyPatch], dict[str, Any]]
    select: str  # the checks to run
    failing: frozenset[str]  # exactly these must fail
    timeout: float = 30.0
    skipped: frozenset[str] = frozenset()  # and exactly these skip


VARIANTS = {
    # the breakages the issue names
    "wrong-status-code": Variant(kills_answer_200, "ops.kills.*", frozenset({
        "ops.kills.kill-running", "ops.kills.unknown-id", "ops.kills.responses-match-spec"})),
    "event-field-missing": Variant(op_started_without_pkg_ref, "events.stream.*", frozenset({
        "events.stream.fields-complete"})),
    "event-timestamp-missing": Variant(events_without_timestamp, "events.stream.*", frozenset({
        "events.stream.messages-match-spec", "events.stream.since-filter", "events.stream.since-offset"})),
    "duplicates-at-replay-switch": Variant(duplicate_at_switch, "events.stream.*", frozenset({
        "events.stream.no-duplicates"})),
    "gap-at-replay-switch": Variant(gap_at_switch, "events.stream.*", frozenset({
        "events.stream.replay-then-live"})),
    "no-range-support": Variant(range_ignored, "pkgs.contents.*", frozenset({
        "pkgs.contents.range-single", "pkgs.contents.range-multiple", "pkgs.contents.range-unsatisfiable"})),
    "traversal-allowed": Variant(traversal_allowed, "pkgs.contents.*", frozenset({
        "pkgs.contents.path-traversal", "pkgs.contents.symlink-escape"})),
    "kill-leaves-container": Variant(kill_leaves_container, "ops.kills.*", frozenset({
        "ops.kills.containers-removed"})),
    "kill-does-nothing": Variant(kill_does_nothing, "ops.kills.*", frozenset({
        "ops.kills.kill-running", "ops.kills.containers-stopped", "ops.kills.containers-removed",
        "ops.kills.op-run-id"}), timeout=5.0),
    "kills-ignore-op-run-id": Variant(kills_ignore_op_run_id, "ops.kills.*", frozenset({"ops.kills.op-run-id"}),
                                      timeout=5.0),
    # more, so that most checks are shown able to fail (the event-ordering ones are in the unit tests)
    "liveness-answers-204": Variant(liveness_answers_204, "liveness.*", frozenset({
        "liveness.ok", "liveness.responses-match-spec"})),
    "bad-starts-answer-422": Variant(starts_answer_422, "ops.starts.*", frozenset({
        "ops.starts.malformed-json", "ops.starts.pkg-required", "ops.starts.wrong-value-shapes",
        "ops.starts.unresolvable-pkg", "ops.starts.responses-match-spec"})),
    "start-errors-are-500": Variant(start_errors_are_500, "ops.starts.*", frozenset({
        "ops.starts.pkg-required", "ops.starts.wrong-value-shapes", "ops.starts.unresolvable-pkg",
        "ops.starts.fuzz-no-5xx"})),
    "args-dropped": Variant(args_dropped, "ops.starts.*", frozenset({"ops.starts.args-reach-op"})),
    "bad-kills-answer-204": Variant(kills_accept_anything, "ops.kills.*", frozenset({
        "ops.kills.op-id-required", "ops.kills.malformed-json"})),
    "plain-get-426": Variant(plain_get_426, "events.stream.*", frozenset({
        "events.stream.plain-get-refused", "events.stream.responses-match-spec"})),
    "roots-ignored": Variant(filters_ignored(keep_since=True, keep_roots=False), "events.stream.*", frozenset({
        "events.stream.roots-filter"})),
    "since-ignored": Variant(filters_ignored(keep_since=False, keep_roots=True), "events.stream.*", frozenset({
        "events.stream.since-filter", "events.stream.since-offset", "events.stream.since-extremes"})),
    "bad-since-accepted": Variant(filters_ignored(True, True, reject_bad_since=False), "events.stream.*",
                                  frozenset({"events.stream.bad-since"})),
    "since-years-limited": Variant(since_years_limited, "events.stream.*", frozenset({
        "events.stream.since-extremes"})),
    "listing-with-go-keys": Variant(listing_with_go_keys, "pkgs.contents.*", frozenset({"pkgs.contents.list-keys"})),
    "listing-without-modes": Variant(listing_without_modes, "pkgs.contents.*", frozenset({
        "pkgs.contents.list-modes"})),
    "listing-modes-without-type-bits": Variant(listing_modes_without_type_bits, "pkgs.contents.*", frozenset({
        "pkgs.contents.list-modes"})),
    "content-corrupted": Variant(content_corrupted, "pkgs.contents.*", frozenset({
        "pkgs.contents.get-file", "pkgs.contents.range-single", "pkgs.contents.range-multiple"})),
    "head-unsupported": Variant(head_unsupported, "pkgs.contents.*", frozenset({
        "pkgs.contents.head-file", "pkgs.contents.head-range", "pkgs.contents.responses-match-spec"})),
    "http-layer-answers": Variant(http_layer_answers, "pkgs.contents.*", frozenset()),
    "directory-with-broken-length": Variant(directory_with_broken_length, "pkgs.contents.*", frozenset({
        "pkgs.contents.fuzz-no-5xx"})),
    "missing-content-is-500": Variant(missing_content_is_500, "pkgs.contents.*", frozenset({
        "pkgs.contents.missing-file", "pkgs.contents.fuzz-no-5xx"})),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_a_broken_node_fails_exactly_the_matching_checks(name: str, monkeypatch: pytest.MonkeyPatch,
                                                         start_node: NodeStarter) -> None:
    variant = VARIANTS[name]
    node = start_node(**variant.mutate(monkeypatch))
    run = run_suite(node.url, variant.select, timeout=variant.timeout)
    assert run.setup_error is None
    assert outcomes(run, Outcome.FAIL) == variant.failing, describe(run)
    assert outcomes(run, Outcome.SKIP) == variant.skipped, describe(run)
    assert outcomes(run, Outcome.ERROR) == set(), describe(run)


def test_full_run_against_the_bundled_node_passes_everything(start_node: NodeStarter) -> None:
    node = start_node()
    run = run_suite(node.url)
    assert {r.outcome for r in run.results} == {Outcome.PASS}, describe(run)
    assert run.exit_status == 0
