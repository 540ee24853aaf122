"""The requests opctl 0.1.21's CLI sends, byte for byte, and the checks its Go decoder applies.

See the node protocol notes: no Content-Type, capitalised keys, the raw 201 body as the op id,
`since` in whole seconds with an escaped `:`, one JSON event per message, `{"OpId": ...}` kills,
`%2F`-escaped package refs and content paths, and empty Basic credentials on `pkg install`.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from pytest_opspec.node.server import BackgroundNode

from .conftest import raw_request, ws_connect

GO_HEADERS = {"User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"}
RFC3339_WITH_ZONE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
VALUE_TYPES = {"array": list, "dir": str, "file": str, "number": (int, float), "object": dict, "socket": str,
               "string": str}


def go_decode_event(message: str) -> dict[str, Any]:
    """What opctl's `encoding/json` decode of model.Event requires; raises AssertionError otherwise."""
    document = json.loads(message)
    assert isinstance(document, dict), "one JSON object per message"
    assert RFC3339_WITH_ZONE.fullmatch(document["timestamp"])
    for body in (v for k, v in document.items() if k != "timestamp"):
        if body.get("data") is not None:
            base64.b64decode(body["data"], validate=True)  # standard, padded
        if "exitCode" in body:
            assert type(body["exitCode"]) is int
        for value in (body.get("outputs") or {}).values():
            (kind, data), = value.items()
            assert isinstance(data, VALUE_TYPES[kind]) and not isinstance(data, bool)
    return document


def opctl_run(node: BackgroundNode, pkg: Path, args: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """`opctl run`: start, then subscribe with roots + since (taken before the start), read to the end."""
    since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps({"Args": args, "Pkg": {"Ref": str(pkg), "PullCreds": None}}).encode()
    response = raw_request(node.url, "POST", "/ops/starts", body=body, headers=GO_HEADERS)
    assert response.status == 201
    op_id = response.body.decode()  # the whole body, untrimmed
    events = []
    with ws_connect(node.url, urlencode({"roots": op_id, "since": since})) as connection:
        while True:
            document = go_decode_event(connection.recv(timeout=30))
            events.append(document)
            ended = document.get("opEnded")
            if ended and ended["opId"] == op_id:
                return op_id, events


def test_opctl_run_of_an_op_with_typed_args(node: BackgroundNode, make_op) -> None:
    pkg = make_op("argsop", """
        name: argsop
        inputs:
          s: { string: {} }
          num: { number: {} }
          o: { object: {} }
          arr: { array: {} }
        outputs:
          s: { string: {} }
        run:
          container:
            image: { ref: 'alpine' }
            cmd: [echo, '$(s) $(num) $(o) $(arr)']
    """)
    args = {"arr": {"array": [1, "a"]}, "num": {"number": 2.5}, "o": {"object": {"k": [1, True]}},
            "s": {"string": "hello"}}
    op_id, events = opctl_run(node, pkg, args)
    assert events[-1]["opEnded"]["outcome"] == "SUCCEEDED"
    assert events[-1]["opEnded"]["outputs"] == {"s": {"string": "hello"}}
    output = b"".join(base64.b64decode(e["containerStdOutWrittenTo"]["data"])
                      for e in events if "containerStdOutWrittenTo" in e)
    assert output == b'hello 2.5 {"k":[1,true]} [1,"a"]\n'


def test_opctl_ctrl_c_kill(node: BackgroundNode, sleep_op: Path) -> None:
    response = raw_request(node.url, "POST", "/ops/starts", headers=GO_HEADERS,
                           body=json.dumps({"Args": {}, "Pkg": {"Ref": str(sleep_op), "PullCreds": None}}).encode())
    op_id = response.body.decode()
    with ws_connect(node.url, urlencode({"roots": op_id, "since": "2000-01-01T00:00:00Z"})) as connection:
        while "containerStdOutWrittenTo" not in go_decode_event(connection.recv(timeout=30)):
            pass
        kill = raw_request(node.url, "POST", "/ops/kills", headers=GO_HEADERS,
                           body=json.dumps({"OpId": op_id}).encode())
        assert 200 <= kill.status < 300
        while not (ended := go_decode_event(connection.recv(timeout=30)).get("opEnded")):
            pass
    assert (ended["opId"], ended["outcome"]) == (op_id, "KILLED")  # opctl exits 137


def test_opctl_pkg_install_through_the_node(node: BackgroundNode, make_op, tmp_path: Path) -> None:
    pkg = make_op("installable", "name: installable\n", files={"sub/a.txt": "abc"})
    escaped = quote(str(pkg), safe="")
    auth = {**GO_HEADERS, "Authorization": "Basic Og=="}  # `pkg install` without -u/-p
    listing = raw_request(node.url, "GET", f"/pkgs/{escaped}/contents", headers=auth)
    assert listing.status == 200
    entries = json.loads(listing.body)
    installed = tmp_path / "installed"
    for entry in entries:  # what `opctl pkg install` does with each entry
        assert all(type(entry[key]) is int for key in ("size", "mode"))
        assert 0 <= entry["mode"] < 2**32
        target = installed / entry["path"].lstrip("/")
        if entry["mode"] & (1 << 31):
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        content = raw_request(node.url, "GET", f"/pkgs/{escaped}/contents/{quote(entry['path'], safe='')}",
                              headers=auth)
        assert content.status == 200
        target.write_bytes(content.body)
    assert (installed / "sub" / "a.txt").read_text() == "abc"
    # `opctl run` and `pkg validate` fetch the manifest without a leading slash.
    manifest = raw_request(node.url, "GET", f"/pkgs/{escaped}/contents/op.yml", headers=GO_HEADERS)
    assert manifest.body == b"name: installable\n"
