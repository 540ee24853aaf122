"""load_op builds the typed model of a whole 0.1.5 op, or raises InvalidOpError with every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_opspec.errors import OpspecError
from pytest_opspec.model import (ContainerCall, Image, InvalidOpError, OpCall, ParallelCall, Position, PullCreds,
                                 SerialCall, load_op)
from pytest_opspec.values import ValueType

FULL = """
name: full
description: every field
version: 1.2.3
inputs:
  arr: {array: {description: a, default: [1, two], isSecret: true, constraints: {minItems: 1}}}
  d: {dir: {default: /src}}
  f: {file: {default: /f.txt, description: file}}
  n: {number: {default: 0o17, constraints: {format: integer}}}
  o: {object: {default: {k: yes}}}
  s: {socket: {}}
  str: {string: {default: 'on', constraints: {enum: ['on', 'off']}}}
outputs:
  out: {string: {}}
run:
  serial:
    - container:
        image:
          ref: alpine:$(str)
          pullCreds: {username: u, password: $(str)}
        cmd: [sh, -c, echo, 5]
        dirs: {/src: $(d), /pkg: }
        envVars: {A: $(str), B: }
        files: {/f.txt: $(f)}
        name: web
        ports: {'80': '8080'}
        sockets: {/var/run/docker.sock: s}
        stdOut: {'v=': out}
        stdErr: {'e=': err}
        workDir: /src
    - parallel:
        - op:
            pkg: {ref: other, pullCreds: {username: u, password: p}}
            inputs: {x: $(str), y: , z: ''}
            outputs: {mine: theirs, same: }
        - serial: []
"""


def test_full_model(make_pkg) -> None:
    pkg = make_pkg("full", FULL)
    op = load_op(pkg)
    assert op.name == "full" and op.description == "every field" and op.version == "1.2.3"
    assert op.path == pkg / "op.yml" and op.pkg_dir == pkg
    assert [p.type for p in op.inputs.values()] == [ValueType.ARRAY, ValueType.DIR, ValueType.FILE,
                                                    ValueType.NUMBER, ValueType.OBJECT, ValueType.SOCKET,
                                                    ValueType.STRING]
    arr = op.inputs["arr"]
    assert (arr.default, arr.has_default, arr.is_secret, arr.constraints) == ([1, "two"], True, True, {"minItems": 1})
    assert op.inputs["n"].default == 15 and op.inputs["o"].default == {"k": "yes"}
    assert op.inputs["s"].has_default is False and op.inputs["s"].default is None
    assert op.inputs["str"].position == Position(11, 3) and op.inputs["str"].pointer == "/inputs/str"
    assert list(op.outputs) == ["out"]

    serial = op.run
    assert isinstance(serial, SerialCall) and serial.pointer == "/run/serial"
    container, parallel = serial.calls
    assert isinstance(container, ContainerCall) and container.pointer == "/run/serial/0/container"
    assert container.position == Position(17, 9)
    assert container.image == Image("alpine:$(str)", PullCreds("u", "$(str)"))
    assert container.cmd == ("sh", "-c", "echo", 5)
    assert container.dirs == {"/src": "$(d)", "/pkg": None}
    assert container.env_vars == {"A": "$(str)", "B": None}
    assert container.files == {"/f.txt": "$(f)"}
    assert (container.name, container.ports, container.sockets) == ("web", {"80": "8080"},
                                                                    {"/var/run/docker.sock": "s"})
    assert (container.std_out, container.std_err, container.work_dir) == ({"v=": "out"}, {"e=": "err"}, "/src")
    assert isinstance(parallel, ParallelCall)
    call, empty = parallel.calls
    assert isinstance(call, OpCall) and call.pkg_ref == "other" and call.pull_creds == PullCreds("u", "p")
    assert call.inputs == {"x": "$(str)", "y": None, "z": ""}
    assert call.outputs == {"mine": "theirs", "same": None}
    assert isinstance(empty, SerialCall) and empty.calls == ()
    assert op.position_of("/run/serial/0/container/image/ref") == Position(18, 16)
    assert op.key_position_of("/run/serial/0/container/image/ref") == Position(18, 11)


def test_minimal_op_and_op_yml_path(make_pkg) -> None:
    pkg = make_pkg("min", "name: min\n")
    op = load_op(pkg / "op.yml")
    assert (op.name, op.run, dict(op.inputs)) == ("min", None, {})


def test_invalid_op_raises_with_every_problem(make_pkg) -> None:
    pkg = make_pkg("bad", """
        name: bad
        inputs:
          a: {string: {default: 1}}
        run:
          container:
            image: {}
        """)
    with pytest.raises(InvalidOpError) as caught:
        load_op(pkg)
    error = caught.value
    assert isinstance(error, OpspecError)
    assert [p.format() for p in error.problems] == [
        f"{pkg}/op.yml:3:25: inputs.a.string.default: expected string, got number 1",
        f"{pkg}/op.yml:6:12: run.container.image: 'ref' is a required property",
    ]
    assert str(error).splitlines()[0] == f"{pkg}/op.yml: invalid op (2 errors)"


@pytest.mark.parametrize("text, message", [
    ("- a\n- b\n", "an op.yml must be a mapping (with at least 'name'), not a sequence"),
    ("just text\n", "an op.yml must be a mapping (with at least 'name'), not a str"),
    ("~\n", "an op.yml must be a mapping (with at least 'name'), not null"),
    ("description: no name\n", "'name' is a required property"),
    ("name: x\nfoo: 1\n", "unknown key 'foo'; expected one of 'name', 'description', 'inputs', 'outputs', 'run' "
                          "or 'version'"),
    ("name: [x]\n", "expected string, got a sequence of 1 item"),
])
def test_bad_documents(make_pkg, text: str, message: str) -> None:
    pkg = make_pkg("bad", text)
    with pytest.raises(InvalidOpError) as caught:
        load_op(pkg)
    assert [p.message for p in caught.value.problems] == [message]


def test_missing_package(tmp_path: Path) -> None:
    with pytest.raises(InvalidOpError, match="No such file or directory"):
        load_op(tmp_path)
