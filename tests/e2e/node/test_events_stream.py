"""GET /events/stream: event JSON, since/roots filters, replay then live, bad input, pings, closes."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from pytest_opspec.node.client import EventStreamClosedError, NodeClient
from pytest_opspec.events import EVENT_FIELDS, EventType, format_timestamp, parse_timestamp
from pytest_opspec.node.server import BackgroundNode

from .conftest import NodeFactory, raw_request, receive_until_root_ended, ws_connect, ws_url

RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")


def run_to_end(client: NodeClient, pkg: Path, **args: object) -> tuple[str, list[str]]:
    """Start ``pkg``, wait for its end, and return its id and its raw event messages."""
    op_id = client.start_op(pkg, args)
    client.wait_for_end(op_id, timeout=30)
    with ws_connect(client.base_url, f"since=1970-01-01T00:00:00Z&roots={op_id}") as connection:
        return op_id, receive_until_root_ended(connection, op_id)


def test_each_message_is_one_event_shaped_as_the_seed_says(client: NodeClient, echo_op: Path) -> None:
    op_id, messages = run_to_end(client, echo_op, who="x")
    types = []
    for message in messages:
        document = json.loads(message)
        assert isinstance(document, dict)
        (event_type,) = set(document) - {"timestamp"}
        assert set(document) == {event_type, "timestamp"}
        assert RFC3339_UTC.fullmatch(document["timestamp"])
        body = document[event_type]
        assert tuple(body) == EVENT_FIELDS[EventType(event_type)]  # every field, in the reference's order
        assert body["rootOpId"] == op_id
        if "data" in body:
            base64.b64decode(body["data"], validate=True)
        if "exitCode" in body:
            assert type(body["exitCode"]) is int
        types.append(event_type)
    assert types == ["opStarted", "containerStarted", "containerStdErrWrittenTo", "containerStdOutWrittenTo",
                     "containerExited", "opEnded"] or types == [
        "opStarted", "containerStarted", "containerStdOutWrittenTo", "containerStdErrWrittenTo",
        "containerExited", "opEnded"]
    stamps = [parse_timestamp(json.loads(m)["timestamp"]) for m in messages]
    assert stamps == sorted(set(stamps))  # strictly increasing


def test_since_is_inclusive_and_read_in_any_offset(client: NodeClient, echo_op: Path) -> None:
    op_id, messages = run_to_end(client, echo_op)
    third = parse_timestamp(json.loads(messages[2])["timestamp"])

    def replay(since: str) -> list[str]:
        with ws_connect(client.base_url, f"since={since}&roots={op_id}") as connection:
            return receive_until_root_ended(connection, op_id)

    assert replay(quote(format_timestamp(third))) == messages[2:]
    assert replay(quote(format_timestamp(third + 1))) == messages[3:]
    # The same instant two hours east of UTC, with the offset escaped and (form-style) unescaped.
    moment = datetime.fromtimestamp(third // 1_000_000_000, timezone(timedelta(hours=2)))
    east = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{third % 1_000_000_000:09d}+02:00"
    assert replay(quote(east, safe="")) == messages[2:]
    assert replay(east) == messages[2:]


def test_a_whole_second_since_replays_an_op_that_already_ended(client: NodeClient, echo_op: Path) -> None:
    # As opctl's CLI subscribes: after the 201, with since = its clock before the start, in whole seconds.
    since = datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    op_id = client.start_op(echo_op)
    client.wait_for_end(op_id, timeout=30)
    with ws_connect(client.base_url, f"roots={op_id}&since={quote(since, safe='')}") as connection:
        messages = receive_until_root_ended(connection, op_id)
    assert json.loads(messages[0])["opStarted"]["opId"] == op_id


def test_roots_filter_comma_separated_or_repeated(client: NodeClient, echo_op: Path) -> None:
    first, first_messages = run_to_end(client, echo_op)
    second, second_messages = run_to_end(client, echo_op)
    since = "since=1970-01-01T00:00:00Z"
    for query in (f"roots={first},{second}", f"roots={first}&roots={second}", f"roots={first}%2C{second}"):
        with ws_connect(client.base_url, f"{since}&{query}") as connection:
            assert receive_until_root_ended(connection, second) == first_messages + second_messages
    with ws_connect(client.base_url, f"{since}&roots={second}") as connection:
        assert receive_until_root_ended(connection, second) == second_messages


def test_without_filters_everything_since_the_node_started_is_replayed(client: NodeClient, echo_op: Path) -> None:
    op_id, messages = run_to_end(client, echo_op)
    with ws_connect(client.base_url) as connection:
        received = receive_until_root_ended(connection, op_id)
    assert received[-len(messages):] == messages


def test_live_events_follow_the_replay(client: NodeClient, echo_op: Path) -> None:
    with ws_connect(client.base_url, f"since={quote(format_timestamp(time.time_ns()))}") as connection:
        op_id = client.start_op(echo_op)
        live = receive_until_root_ended(connection, op_id)
    _, stored = run_to_end(client, echo_op)
    assert len(live) == len(stored)
    assert all(json.loads(m)[next(iter(json.loads(m)))]["rootOpId"] == op_id for m in live if "timestamp" in m)


@pytest.mark.parametrize("since", ["yesterday", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01",
                                   "1700000000"])
def test_an_invalid_since_is_a_400_before_the_upgrade(node: BackgroundNode, since: str) -> None:
    with pytest.raises(InvalidStatus) as raised:
        with ws_connect(node.url, f"since={quote(since)}"):
            pass
    assert raised.value.response.status_code == 400
    assert json.loads(raised.value.response.body)["code"] == "INVALID_SINCE"
    plain = raw_request(node.url, "GET", f"/events/stream?since={quote(since)}")
    assert plain.status == 400 and plain.json()["code"] == "INVALID_SINCE"


def test_a_request_that_is_not_a_websocket_is_a_400(node: BackgroundNode) -> None:
    response = raw_request(node.url, "GET", "/events/stream")
    assert response.status == 400
    assert response.json()["code"] == "NOT_A_WEBSOCKET"
    assert raw_request(node.url, "POST", "/events/stream").status == 405


def test_a_failure_after_the_upgrade_closes_the_stream_with_1011(node_factory: NodeFactory,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    running = node_factory()

    async def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store is broken")

    monkeypatch.setattr(running.node.broker, "subscribe", failing)
    with ws_connect(running.url) as connection:
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1011, "internal error; see the node's log")


def test_pings_are_answered_and_a_client_close_ends_the_session(node: BackgroundNode) -> None:
    sessions = node.node.sessions
    before = len(sessions)
    # From now on: no replay traffic stands between the ping and its pong.
    with ws_connect(node.url, f"since={quote(format_timestamp(time.time_ns()))}") as connection:
        assert connection.ping().wait(5)
        deadline = time.monotonic() + 5
        while len(sessions) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(sessions) == before + 1
    deadline = time.monotonic() + 5
    while len(sessions) > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(sessions) == before
    assert node.node.broker.subscriptions == before


def test_the_node_pings_and_a_responsive_client_stays_connected(node_factory: NodeFactory, echo_op: Path) -> None:
    running = node_factory(heartbeat=0.2)
    with ws_connect(running.url, ping_interval=None) as connection:
        time.sleep(1.0)  # several heartbeats, each answered by the client library
        op_id = NodeClient(running.url).start_op(echo_op)
        assert json.loads(receive_until_root_ended(connection, op_id)[-1])["opEnded"]["outcome"] == "SUCCEEDED"


def test_a_slow_consumer_is_closed_with_1013_and_resumes_without_a_gap(
    node_factory: NodeFactory, make_op,
) -> None:
    running = node_factory(max_lag=50)
    client = NodeClient(running.url)
    # 3,000 lines of 4,000 bytes: far more than the socket buffers hold, so a client that stops
    # reading falls behind the live stream.
    pkg = make_op("chatty", """
        name: chatty
        run:
          container:
            image: { ref: 'alpine' }
            cmd: [sh, -c, 'yes "$(head -c 3999 /dev/zero | tr "\\0" x)" | head -n 3000']
    """)
    # max_queue=1: the client library stops reading the socket while the test does not read.
    with connect(ws_url(running.url), compression=None, max_queue=1, max_size=None) as slow:
        op_id = client.start_op(pkg)
        # Waiting in-process: any live subscriber would count as slow with so small a max_lag.
        assert running.node.executor.wait(op_id, 60) is not None
        received = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                received.append(slow.recv(timeout=30))
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1013
    reason = closed.value.rcvd.reason
    assert reason.startswith("slow consumer: fell ")
    since = re.search(r"since=(\S+)", reason)[1]
    with ws_connect(running.url, f"since=1970-01-01T00:00:00Z&roots={op_id}") as connection:
        everything = receive_until_root_ended(connection, op_id)
    assert 0 < len(received) < len(everything)
    with ws_connect(running.url, f"since={quote(since)}&roots={op_id}") as connection:
        rest = receive_until_root_ended(connection, op_id)
    assert received + rest == everything
    with client.events(since=since, roots=[op_id]) as stream:
        assert next(stream).to_json() == json.loads(rest[0])


def test_shutdown_closes_streams_with_1001(node_factory: NodeFactory) -> None:
    running = node_factory()
    with NodeClient(running.url).events() as stream:
        running.stop()
        with pytest.raises(EventStreamClosedError) as closed:
            next(stream)
    assert (closed.value.code, closed.value.reason) == (1001, "the node is shutting down")
