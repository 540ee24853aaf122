"""Judging single exchanges against the OpenAPI rendering of the node API."""

from __future__ import annotations

import json

import pytest

from pytest_opspec.conformance.spec import ApiSpec
from pytest_opspec.conformance.transport import Exchange, Headers

LISTING = "/pkgs/{ref}/contents"
CONTENT = "/pkgs/{ref}/contents/{path}"


@pytest.fixture(scope="module")
def spec() -> ApiSpec:
    return ApiSpec("node-api.openapi.yaml")


def exchange(method: str, template: str, status: int, headers: dict[str, str] | None = None,
             body: bytes = b"") -> Exchange:
    return Exchange("check", method, template, template, {}, None, status, Headers((headers or {}).items()), body)


def test_a_listed_status_without_documented_headers_or_body_matches(spec: ApiSpec) -> None:
    assert spec.problems(exchange("GET", "/liveness", 200)) == []
    assert spec.problems(exchange("POST", "/ops/kills", 204)) == []
    assert spec.problems(exchange("POST", "/ops/starts", 400, {"Content-Type": "text/html"}, b"<b>no</b>")) == []


def test_a_status_the_document_does_not_list_is_a_problem(spec: ApiSpec) -> None:
    assert spec.problems(exchange("POST", "/ops/kills", 201)) == [
        "status 201 is not one the API document lists for POST /ops/kills (204, 400, 500)"]
    assert spec.problems(exchange("GET", "/liveness", 404))


def test_the_start_id_is_a_string_in_json_or_text(spec: ApiSpec) -> None:
    assert spec.problems(exchange("POST", "/ops/starts", 201, {"Content-Type": "text/plain; charset=utf-8"},
                                  b"0123abcd")) == []
    assert spec.problems(exchange("POST", "/ops/starts", 201, {"Content-Type": "application/json"}, b'"abc"')) == []
    assert spec.problems(exchange("POST", "/ops/starts", 201, {"Content-Type": "application/json"},
                                  b'{"id": "abc"}')) == ["body (root): {'id': 'abc'} is not of type 'string'"]
    assert "not one the API document lists (application/json, text/plain)" in spec.problems(
        exchange("POST", "/ops/starts", 201, {"Content-Type": "application/octet-stream"}, b"abc"))[0]


def test_the_listing_is_checked_against_its_schema_and_headers(spec: ApiSpec) -> None:
    good = json.dumps([{"path": "/op.yml", "size": 3, "mode": 420}]).encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(good))}
    assert spec.problems(exchange("GET", LISTING, 200, headers, good)) == []
    bad = json.dumps([{"path": "/op.yml", "size": "3", "mode": 420}]).encode()
    assert spec.problems(exchange("GET", LISTING, 200, {**headers, "Content-Length": str(len(bad))}, bad)) == [
        "body [0].size: '3' is not of type 'integer'"]
    assert spec.problems(exchange("GET", LISTING, 200, {"Content-Type": "application/json"}, good)) == [
        "no Content-Length header (documented for 200)"]


def test_content_headers_must_be_present_and_typed(spec: ApiSpec) -> None:
    assert spec.problems(exchange("GET", CONTENT, 200, {"Accept-Ranges": "bytes", "Content-Length": "4",
                                                         "Content-Type": "image/png"}, b"abcd")) == []
    assert spec.problems(exchange("GET", CONTENT, 200, {"Accept-Ranges": "none", "Content-Length": "four"})) == [
        "Accept-Ranges: 'none' is not bytes", "Content-Length: 'four' is not an integer"]
    assert spec.problems(exchange("GET", CONTENT, 206, {"Content-Length": "2", "Content-Range": "0-1"})) == [
        "Content-Range: '0-1' is not 'bytes FIRST-LAST/LENGTH' (RFC 7233 §4.2)"]
    # a multipart 206 carries its ranges in its parts
    assert spec.problems(exchange("GET", CONTENT, 206, {
        "Content-Length": "9", "Content-Type": "multipart/byteranges; boundary=x"})) == []


def test_head_of_content_is_declared_so_405_is_a_violation(spec: ApiSpec) -> None:
    assert spec.problems(exchange("HEAD", CONTENT, 405)) == [
        "status 405 is not one the API document lists for HEAD /pkgs/{ref}/contents/{path} "
        "(200, 206, 401, 403, 404, 416, 500)"]
    assert spec.problems(exchange("HEAD", LISTING, 200)) == ["the API document has no HEAD /pkgs/{ref}/contents"]


@pytest.mark.parametrize(("target", "status", "problems"), [
    # answered by the HTTP layer before routing: judged by HTTP, not by the document (http_layer.py)
    ("/pkgs/%zz/contents/op.yml", 400, []),
    ("/pkgs/x/contents/a%", 404, []),
    ("/pkgs/x/contents/..", 301, []),
    ("/pkgs/x/contents/%2e%2e/y", 308, []),
    ("/pkgs/x/contents/data/../op.yml", 200, []),
    ("/pkgs/x//contents/op.yml", 404, []),
    ("/pkgs/%zz/contents/op.yml", 500, ["the target has an invalid percent-escape (RFC 3986 §2.1): expected a 4xx "
                                        "(not 416), got 500"]),
    ("/pkgs/%zz/contents/op.yml", 301, ["the target has an invalid percent-escape (RFC 3986 §2.1): expected a 4xx "
                                        "(not 416), got 301"]),
    ("/pkgs/x/contents/..", 416, ["the target is not in normal form: dot-segments or empty segments (RFC 3986 "
                                  "§5.2.4, §6.2.2): expected a redirect to its normal form or a 4xx (not 416), "
                                  "got 416"]),
    # an encoded slash is no separator: one ordinary segment, judged by the document
    ("/pkgs/x/contents/%2F..%2Fy", 301, ["status 301 is not one the API document lists for GET "
                                         "/pkgs/{ref}/contents/{path} (200, 206, 401, 403, 404, 416, 500)"]),
])
def test_answers_of_the_http_layer_follow_one_rule(spec: ApiSpec, target: str, status: int,
                                                   problems: list[str]) -> None:
    answer = Exchange("check", "GET", CONTENT, target, {}, None, status, Headers([]), b"")
    assert spec.problems(answer) == problems


def test_the_websocket_handshake_needs_its_upgrade_headers(spec: ApiSpec) -> None:
    assert spec.problems(exchange("GET", "/events/stream", 101, {"Upgrade": "WebSocket",
                                                                  "Connection": "keep-alive, Upgrade"})) == []
    assert spec.problems(exchange("GET", "/events/stream", 101, {"Upgrade": "h2c"})) == [
        "Upgrade: 'h2c' is not websocket", "no Connection header (documented for 101)"]
