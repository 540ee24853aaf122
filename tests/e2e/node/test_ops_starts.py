"""POST /ops/starts: 201 with the id; every bad input is a 400 with a JSON code; 500 for node faults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_opspec.node.client import NodeClient, NodeError
from pytest_opspec.events import EventType, Outcome
from pytest_opspec.node.server import BackgroundNode

from .conftest import raw_request

ID = re.compile(r"[0-9a-f]{32}")


def post(node: BackgroundNode, body: bytes, headers: dict[str, str] | None = None):
    return raw_request(node.url, "POST", "/ops/starts", body=body, headers=headers)


def test_start_answers_201_with_the_bare_id_and_the_op_runs(node: BackgroundNode, client: NodeClient,
                                                            echo_op: Path) -> None:
    body = json.dumps({"pkg": {"ref": str(echo_op)}, "args": {"who": {"string": "ann"}}}).encode()
    response = post(node, body, {"Content-Type": "application/json"})
    assert response.status == 201
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    op_id = response.body.decode()
    assert ID.fullmatch(op_id)  # no newline, no quotes: opctl's CLI reads the raw body as the id
    events = client.wait_for_end(op_id, timeout=30)
    assert events[0].type is EventType.OP_STARTED and events[0].pkg_ref == str(echo_op)
    assert events[-1].outcome is Outcome.SUCCEEDED
    assert events[-1].outputs["greeting"].data == "hello ann"


def test_start_answers_a_json_string_when_asked(node: BackgroundNode, client: NodeClient, echo_op: Path) -> None:
    response = post(node, json.dumps({"pkg": {"ref": str(echo_op)}}).encode(), {"Accept": "application/json"})
    assert response.status == 201
    assert response.headers["Content-Type"].startswith("application/json")
    op_id = response.json()
    assert ID.fullmatch(op_id)
    client.wait_for_end(op_id, timeout=30)


def test_start_reads_keys_case_insensitively_without_content_type(node: BackgroundNode, client: NodeClient,
                                                                   echo_op: Path) -> None:
    # Exactly what opctl 0.1.21's CLI sends: capitalised keys, PullCreds null, no Content-Type.
    body = json.dumps({"Args": {"who": {"String": "opctl"}}, "Pkg": {"Ref": str(echo_op), "PullCreds": None}})
    response = post(node, body.encode())
    assert response.status == 201, response.body
    events = client.wait_for_end(response.body.decode(), timeout=30)
    assert events[-1].outputs["greeting"].data == "hello opctl"


def test_invalid_arg_values_are_reported_as_events_after_201(client: NodeClient, make_op) -> None:
    pkg = make_op("typed", """
        name: typed
        inputs:
          count: { number: { constraints: { minimum: 10 } } }
        run: { container: { image: { ref: 'alpine' }, cmd: ['true'] } }
    """)
    op_id = client.start_op(pkg, {"count": 3})
    events = client.wait_for_end(op_id, timeout=30)
    assert [e.type for e in events] == [EventType.OP_ERRED, EventType.OP_ENDED]
    assert "count" in events[0].msg
    assert events[-1].outcome is Outcome.FAILED


@pytest.mark.parametrize(("body", "code", "mentions"), [
    (b"", "MALFORMED_JSON", "empty"),
    (b"   ", "MALFORMED_JSON", "empty"),
    (b"{not json", "MALFORMED_JSON", "not valid JSON"),
    (b"\xff\xfe\x00", "MALFORMED_JSON", "not valid JSON"),
    (b"[]", "INVALID_REQUEST", "JSON object"),
    (b"{}", "PKG_REQUIRED", "pkg required"),
    (b'{"pkg": null}', "PKG_REQUIRED", "pkg required"),
    (b'{"pkg": "/abs"}', "INVALID_REQUEST", "pkg must be an object"),
    (b'{"pkg": {}}', "INVALID_REQUEST", "pkg.ref must be a string"),
    (b'{"pkg": {"ref": 5}}', "INVALID_REQUEST", "pkg.ref must be a string"),
    (b'{"pkg": {"ref": ""}}', "INVALID_PKG_REF", "empty"),
    (b'{"pkg": {"ref": "/x", "pullCreds": "u:p"}}', "INVALID_REQUEST", "pullCreds"),
    (b'{"pkg": {"ref": "/x", "pullCreds": {"username": "u"}}}', "INVALID_REQUEST", "pullCreds.password"),
    (b'{"pkg": {"ref": "/x"}, "args": []}', "INVALID_REQUEST", "args must be an object"),
    (b'{"pkg": {"ref": "/x"}, "args": {"who": "bare"}}', "INVALID_ARG", "'who'"),
    (b'{"pkg": {"ref": "/x"}, "args": {"who": {}}}', "INVALID_ARG", "exactly one type key"),
    (b'{"pkg": {"ref": "/x"}, "args": {"n": {"number": "1"}}}', "INVALID_ARG", "args.n.number"),
    (b'{"pkg": {"ref": "/x"}, "args": {"s": {"string": "a", "number": 1}}}', "INVALID_ARG", "'s'"),
    (b'{"pkg": {"ref": "relative/pkg"}}', "PKG_NOT_FOUND", "relative"),
    (b'{"pkg": {"ref": "/no/such/pkg/anywhere"}}', "PKG_NOT_FOUND", "/no/such/pkg/anywhere"),
    (b'{"pkg": {"ref": "github.com/opspec-pkgs/git clone#1.0.0"}}', "INVALID_PKG_REF", "whitespace"),
    (b'{"pkg": {"ref": "https://example.com/pkg"}}', "INVALID_PKG_REF", "scheme"),
])
def test_bad_start_requests_get_400_with_a_code(node: BackgroundNode, body: bytes, code: str, mentions: str) -> None:
    response = post(node, body)
    assert response.status == 400, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()
    assert error["code"] == code
    assert mentions in error["message"]


def test_a_dir_without_op_yml_is_not_found(node: BackgroundNode, tmp_path: Path) -> None:
    response = post(node, json.dumps({"pkg": {"ref": str(tmp_path)}}).encode())
    assert response.status == 400
    assert response.json()["code"] == "PKG_NOT_FOUND"
    assert "op.yml" in response.json()["message"]


def test_client_raises_node_error_with_code(client: NodeClient) -> None:
    with pytest.raises(NodeError) as raised:
        client.start_op("/no/such/pkg")
    assert (raised.value.status, raised.value.code) == (400, "PKG_NOT_FOUND")


def test_a_node_fault_is_a_500_without_traceback(node: BackgroundNode, echo_op: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(node.node.executor, "start", broken)
    response = post(node, json.dumps({"pkg": {"ref": str(echo_op)}}).encode())
    assert response.status == 500
    error = response.json()
    assert error["code"] == "INTERNAL_ERROR"
    assert "Traceback" not in error["message"] and "disk on fire" not in error["message"]


def test_start_only_accepts_post(node: BackgroundNode) -> None:
    response = raw_request(node.url, "GET", "/ops/starts")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
