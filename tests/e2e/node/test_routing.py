"""Routing across the API: unknown paths, methods, CORS, and the JSON error body everywhere."""

from __future__ import annotations

import pytest

from pytest_opspec.node.server import BackgroundNode

from .conftest import raw_request


@pytest.mark.parametrize("target", ["/", "/nope", "/liveness/", "/ops", "/ops/starts/x", "/pkgs", "/pkgs/x",
                                    "/pkgs//contents", "/events", "/app/"])
def test_unknown_paths_are_404_with_a_json_body(node: BackgroundNode, target: str) -> None:
    response = raw_request(node.url, "GET", target)
    assert response.status == 404
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()
    assert error["code"] == "NOT_FOUND"
    assert "/ops/starts" in error["message"]  # it says which paths exist


@pytest.mark.parametrize(("target", "allow"), [
    ("/liveness", "GET"), ("/ops/starts", "POST"), ("/ops/kills", "POST"), ("/events/stream", "GET"),
    ("/pkgs/%2Fx/contents", "GET, HEAD"), ("/pkgs/%2Fx/contents/op.yml", "GET, HEAD"),
])
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_known_paths_with_another_method_are_405_with_allow(node: BackgroundNode, target: str, allow: str,
                                                             method: str) -> None:
    response = raw_request(node.url, method, target)
    assert response.status == 405
    assert response.headers["Allow"] == allow
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


def test_no_cors_headers_without_an_origin(node: BackgroundNode) -> None:
    assert "Access-Control-Allow-Origin" not in raw_request(node.url, "GET", "/liveness").headers
