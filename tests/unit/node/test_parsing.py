"""Small parsers of the node and its client: stream filters, raw-path routes, listen addresses, since."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pytest_opspec.node.client import NodeError, _error_from, _format_since
from pytest_opspec.options import listen_address as parse_listen
from pytest_opspec.node.errors import ApiError
from pytest_opspec.node.events_stream import parse_filters
from pytest_opspec.node.app import routes
from pytest_opspec.node.routing import Router


@pytest.mark.parametrize(("query", "since_ns", "roots"), [
    ("", None, set()),
    ("since=", None, set()),
    ("since=1970-01-01T00:00:01Z", 1_000_000_000, set()),
    ("since=1970-01-01T00%3A00%3A01.5Z", 1_500_000_000, set()),
    ("since=1970-01-01T01:00:01+01:00", 1_000_000_000, set()),
    ("since=1970-01-01T01:00:01%2B01:00", 1_000_000_000, set()),
    ("since=1969-12-31T23:00:01-01:00", 1_000_000_000, set()),
    ("since=0001-01-01T00:00:00Z", -(2**63), set()),  # beyond 64-bit ns: the bound (all stored events)
    ("since=9999-12-31T23:59:59.999999999Z", 2**63 - 1, set()),
    ("roots=a,b&roots=c", None, {"a", "b", "c"}),
    ("roots=a%2Cb", None, {"a", "b"}),
    ("roots=,a,,", None, {"a"}),
    ("roots=", None, set()),
    ("other=1", None, set()),
])
def test_stream_filters(query: str, since_ns: int | None, roots: set[str]) -> None:
    assert parse_filters(query) == (since_ns, frozenset(roots))


@pytest.mark.parametrize("since", ["now", "2024-01-01", "2024-01-01T00:00:00", "2024-02-30T00:00:00Z"])
def test_invalid_since(since: str) -> None:
    with pytest.raises(ApiError) as raised:
        parse_filters(f"since={since}")
    assert (raised.value.status, raised.value.code.value) == (400, "INVALID_SINCE")


@pytest.mark.parametrize(("path", "template", "params"), [
    ("/liveness", "/liveness", {}),
    ("/pkgs/%2Fa%2Fb/contents", "/pkgs/{ref}/contents", {"ref": "%2Fa%2Fb"}),
    ("/pkgs/%2Fa%2Fb/contents/%2Fop.yml", "/pkgs/{ref}/contents/{path}", {"ref": "%2Fa%2Fb", "path": "%2Fop.yml"}),
    ("/pkgs/x/contents/sub/a.txt", "/pkgs/{ref}/contents/{path}", {"ref": "x", "path": "sub/a.txt"}),
])
def test_routes_match_raw_paths(path: str, template: str, params: dict[str, str]) -> None:
    route, found = Router(routes()).match(path)
    assert (route.template, found) == (template, params)


@pytest.mark.parametrize("path", ["/pkgs/a/b/contents", "/pkgs/x/contents/", "/liveness/", "/"])
def test_unknown_raw_paths(path: str) -> None:
    with pytest.raises(ApiError) as raised:
        Router(routes()).match(path)
    assert raised.value.status == 404


@pytest.mark.parametrize(("text", "address"), [
    ("127.0.0.1:42224", ("127.0.0.1", 42224)), (":8080", ("127.0.0.1", 8080)), ("[::1]:0", ("::1", 0)),
    ("localhost:1", ("localhost", 1)),
])
def test_listen_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_listen(text) == address


@pytest.mark.parametrize("text", ["", "42224", "host:", "host:port", "host:70000"])
def test_bad_listen_addresses(text: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen(text)


def test_since_for_the_client() -> None:
    assert _format_since(0) == "1970-01-01T00:00:00Z"
    assert _format_since("2024-01-01T00:00:00+02:00") == "2024-01-01T00:00:00+02:00"
    assert _format_since(datetime(2024, 1, 1, 2, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))) == \
        "2024-01-01T00:00:00.000005Z"
    assert _format_since(datetime(2024, 1, 1)) == "2024-01-01T00:00:00Z"  # naive means UTC


def test_node_errors_from_json_and_from_text() -> None:
    error = _error_from(400, b'{"code": "PKG_NOT_FOUND", "message": "nope"}')
    assert (error.status, error.code, error.message) == (400, "PKG_NOT_FOUND", "nope")
    assert str(error) == "the node answered 400 PKG_NOT_FOUND: nope"
    plain = _error_from(500, b"pkg required\n")
    assert (plain.code, plain.message) == (None, "pkg required")
    assert isinstance(plain, NodeError)
