"""Every value type in and out of a real run; input constraint failures (SEMANTICS §2-§3)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_opspec.events import EventType, Outcome
from pytest_opspec.executor.runner import OpRunner
from pytest_opspec.values import Value, ValueType

ALL_TYPES_OP = """
    name: all-types
    inputs:
      text: { string: { constraints: { minLength: 2 } } }
      count: { number: { constraints: { minimum: 1, format: integer } } }
      items: { array: { constraints: { minItems: 1 } } }
      config: { object: { constraints: { required: [mode] } } }
      data: { file: {} }
      tree: { dir: {} }
      sock: { socket: {} }
    outputs:
      text: { string: {} }
      count: { number: {} }
      items: { array: {} }
      config: { object: {} }
      data: { file: {} }
      tree: { dir: {} }
      sock: { socket: {} }
    run:
      container:
        image: { ref: 'alpine:3.19' }
        cmd:
          - sh
          - -c
          - |
            echo "text=$(text)!"
            echo "count=$(($(count) * 2))"
            echo 'items=$(items)'
            echo 'config=$(config)'
            cat /data; echo more >> /data
            ls /tree; touch /tree/new.txt
        files: { /data: $(data) }
        dirs: { /tree: $(tree) }
        stdOut:
          'text=': text
          'count=': count
          'items=': items
          'config=': config
"""


def test_every_value_type_in_and_out(runner: OpRunner, make_op, tmp_path: Path) -> None:
    pkg = make_op("all-types", ALL_TYPES_OP)
    data = tmp_path / "data.txt"
    data.write_text("payload\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "old.txt").write_text("")
    result = runner.run(pkg, {
        "text": "hi", "count": 21, "items": [1, "two"], "config": {"mode": "fast"},
        "data": data, "tree": tree, "sock": Value.socket("/run/x.sock"),
    })
    assert result.succeeded, result.summary()
    out = result.containers[0].stdout.decode()
    assert out == 'text=hi!\ncount=42\nitems=[1,"two"]\nconfig={"mode":"fast"}\npayload\nold.txt\n'
    outputs = result.outputs
    assert outputs["text"] == "hi!"
    assert outputs["count"] == 42  # a stdOut binding is a string; the declared number type wins
    assert outputs["items"] == [1, "two"] and outputs["config"] == {"mode": "fast"}
    assert outputs["data"].read_text() == "payload\nmore\n"
    assert sorted(p.name for p in outputs["tree"].iterdir()) == ["new.txt", "old.txt"]
    assert outputs["sock"] == "/run/x.sock"
    assert {name: value.type for name, value in result.values.items()} == {
        "text": ValueType.STRING, "count": ValueType.NUMBER, "items": ValueType.ARRAY,
        "config": ValueType.OBJECT, "data": ValueType.FILE, "tree": ValueType.DIR, "sock": ValueType.SOCKET,
    }
    # The API encoding of the root's outputs always carries the type key.
    ended = result.events[-1].to_json()["opEnded"]["outputs"]
    assert ended["items"] == {"array": [1, "two"]} and ended["count"] == {"number": 42}


def test_constraint_failures_name_every_input_and_start_nothing(runner: OpRunner, make_op, tmp_path) -> None:
    pkg = make_op("all-types", ALL_TYPES_OP)
    result = runner.run(pkg, {
        "text": "h", "count": 1.5, "items": [], "config": {"other": 1},
        "data": tmp_path / "missing.txt", "tree": tmp_path / "missing-dir",
    })
    assert result.outcome is Outcome.FAILED
    for name in ("text", "count", "items", "config", "data", "tree", "sock"):
        assert f"{name}:" in result.error, name
    assert "param required" in result.error  # sock has no arg and no default (§10.2)
    assert [e.type for e in result.events] == [EventType.OP_ERRED, EventType.OP_ENDED]


def test_empty_array_and_object_keep_their_type(runner: OpRunner, make_op) -> None:
    pkg = make_op("empties", """
        name: empties
        inputs:
          a: { array: { default: [] } }
          o: { object: { default: {} } }
        outputs:
          a: { array: {} }
          o: { object: {} }
        run:
          container: { image: { ref: 'alpine:3.19' }, cmd: [echo, '$(a)$(o)'] }
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    assert result.containers[0].stdout == b"[]{}\n"
    encoded = json.dumps(result.events[-1].to_json()["opEnded"]["outputs"], sort_keys=True)
    assert encoded == '{"a": {"array": []}, "o": {"object": {}}}'  # §10.18


def test_secret_inputs_are_masked_in_reports_and_left_out_of_serial_events(runner: OpRunner, make_op) -> None:
    pkg = make_op("secret", """
        name: secret
        inputs:
          token: { string: { isSecret: true, constraints: { minLength: 3 } } }
        run:
          serial:
            - container:
                image: { ref: 'alpine:3.19' }
                cmd: [sh, -c, 'echo using $(token); exit 1']
    """)
    result = runner.run(pkg, {"token": "hunter2"})
    assert result.outcome is Outcome.FAILED
    report = result.summary()
    assert "hunter2" not in report and "using <secret:token>" in report
    serial_end = next(e for e in result.events if e.type is EventType.SERIAL_CALL_ENDED)
    assert "token" not in serial_end.outputs
    short = runner.run(pkg, {"token": "hi"})
    assert "token:" in short.error and "hi" not in short.error.replace("token", "")


def test_relative_file_defaults_resolve_against_the_working_directory(executor, make_op, tmp_path) -> None:
    pkg = make_op("reldefault", """
        name: reldefault
        inputs:
          cfg: { file: { default: ./settings.txt } }
          pkgfile: { file: { default: /inside.txt } }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'cat /cfg /inside']
            files: { /cfg: $(cfg), /inside: $(pkgfile) }
    """, files={"inside.txt": "in-pkg\n"})
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "settings.txt").write_text("from-cwd\n")
    result = OpRunner(executor, cwd=workdir).run(pkg)
    assert result.succeeded, result.summary()
    assert result.containers[0].stdout == b"from-cwd\nin-pkg\n"
