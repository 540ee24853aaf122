"""POST /ops/kills: 204 once the root's containers are gone; its opEnded says KILLED."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pytest_opspec.node.client import NodeClient
from pytest_opspec.events import EventType, Outcome
from pytest_opspec.node.server import BackgroundNode
from pytest_opspec.runtime.base import LABEL_ROOT_OP
from pytest_opspec.runtime.docker import DockerRuntime

from .conftest import raw_request


def wait_for_container(client: NodeClient, op_id: str, timeout: float = 30) -> None:
    """Until the op's container runs (it printed its first line)."""
    with client.events(since=0, roots=[op_id], timeout=timeout) as stream:
        for event in stream:
            if event.type is EventType.CONTAINER_STDOUT_WRITTEN_TO:
                return


def containers_of(op_id: str) -> list[str]:
    runtime = DockerRuntime()
    try:
        return runtime.list_labelled({LABEL_ROOT_OP: op_id})[0]
    finally:
        runtime.close()


@pytest.mark.parametrize("key", ["opId", "OpId", "opRunId"])
def test_kill_ends_the_op_and_removes_its_containers(node: BackgroundNode, client: NodeClient, sleep_op: Path,
                                                     key: str) -> None:
    op_id = client.start_op(sleep_op)
    wait_for_container(client, op_id)
    started = time.monotonic()
    # No Content-Type, as opctl's CLI sends it; "OpId" is its spelling, "opRunId" the spec's.
    response = raw_request(node.url, "POST", "/ops/kills", body=json.dumps({key: op_id}).encode())
    assert response.status == 204
    assert response.body == b""
    assert containers_of(op_id) == []  # gone by the time the kill answers
    events = client.wait_for_end(op_id, timeout=30)
    assert time.monotonic() - started < 20  # not the container's own 60 s
    assert events[-1].type is EventType.OP_ENDED
    assert events[-1].outcome is Outcome.KILLED
    exited = [e for e in events if e.type is EventType.CONTAINER_EXITED]
    assert exited and exited[0].exit_code == 137


def test_client_kill_op(client: NodeClient, sleep_op: Path) -> None:
    op_id = client.start_op(sleep_op)
    wait_for_container(client, op_id)
    client.kill_op(op_id)
    assert client.wait_for_end(op_id, timeout=30)[-1].outcome is Outcome.KILLED


def test_killing_an_ended_or_unknown_op_is_a_no_op(client: NodeClient, echo_op: Path) -> None:
    op_id = client.start_op(echo_op)
    client.wait_for_end(op_id, timeout=30)
    client.kill_op(op_id)  # idempotent: already ended
    client.kill_op("0" * 32)  # unknown
    client.kill_op("")


@pytest.mark.parametrize(("body", "code"), [
    (b"", "MALFORMED_JSON"),
    (b"{", "MALFORMED_JSON"),
    (b'"abc"', "INVALID_REQUEST"),
    (b"{}", "OP_ID_REQUIRED"),
    (b'{"opId": null}', "OP_ID_REQUIRED"),
    (b'{"opId": 42}', "INVALID_REQUEST"),
    (b'{"opId": ["a"]}', "INVALID_REQUEST"),
])
def test_bad_kill_requests_get_400(node: BackgroundNode, body: bytes, code: str) -> None:
    response = raw_request(node.url, "POST", "/ops/kills", body=body)
    assert response.status == 400
    assert response.json()["code"] == code


def test_kill_failure_is_a_500(node: BackgroundNode, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(op_id: str) -> bool:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(node.node.executor, "kill", broken)
    response = raw_request(node.url, "POST", "/ops/kills", body=b'{"opId": "x"}')
    assert response.status == 500
    assert response.json()["code"] == "INTERNAL_ERROR"


def test_kill_only_accepts_post(node: BackgroundNode) -> None:
    response = raw_request(node.url, "GET", "/ops/kills")
    assert (response.status, response.headers["Allow"]) == (405, "POST")
