"""Every field of a container call, on the real engine (SEMANTICS §5)."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path

from pytest_opspec.events import EventType, Outcome
from pytest_opspec.executor.runner import OpRunner


def test_cmd_replaces_entrypoint_and_interpolates(runner: OpRunner, make_op) -> None:
    pkg = make_op("cmd", """
        name: cmd
        inputs:
          who: { string: { default: world } }
          count: { number: { default: 3 } }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'echo "hello $(who) x$(count)"']
    """)
    result = runner.run(pkg, {"who": "tester"})
    assert result.succeeded, result.summary()
    assert result.containers[0].stdout == b"hello tester x3\n"


def test_no_cmd_uses_the_image_default(runner: OpRunner, make_op) -> None:
    # The test image's CMD is `sh`, which exits at once without a terminal.
    pkg = make_op("nocmd", """
        name: nocmd
        run: { container: { image: { ref: 'alpine:3.19' } } }
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    assert result.containers[0].exit_code == 0


def test_stdout_and_stderr_are_separate_events_and_bindings(runner: OpRunner, make_op) -> None:
    pkg = make_op("streams", """
        name: streams
        outputs:
          version: { string: {} }
          warning: { string: {} }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'echo v=1; echo v=1.2.3; echo w=careful >&2; printf partial']
            stdOut: { 'v=': version }
            stdErr: { 'w=': warning }
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    assert result.outputs == {"version": "1.2.3", "warning": "careful"}  # the last matching line wins
    out = [e.data for e in result.events if e.type is EventType.CONTAINER_STDOUT_WRITTEN_TO]
    err = [e.data for e in result.events if e.type is EventType.CONTAINER_STDERR_WRITTEN_TO]
    assert out == [b"v=1\n", b"v=1.2.3\n", b"partial"]  # one event per line; the partial line at the end
    assert err == [b"w=careful\n"]


def test_env_vars_explicit_and_implicit(runner: OpRunner, make_op) -> None:
    pkg = make_op("env", """
        name: env
        inputs:
          TOKEN: { string: { default: abc } }
          obj: { object: { default: { b: 1, a: [x] } } }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'echo "$TOKEN|$GREETING|$OBJ"']
            envVars:
              TOKEN:
              GREETING: hi $(TOKEN)
              OBJ: $(obj)
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    assert result.containers[0].stdout == b'abc|hi abc|{"a":["x"],"b":1}\n'


def test_env_var_implicit_binding_needs_the_name_in_scope(runner: OpRunner, make_op) -> None:
    pkg = make_op("env-missing", """
        name: env-missing
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [env]
            envVars: { NOT_IN_SCOPE: }
    """)
    result = runner.run(pkg)
    assert result.outcome is Outcome.FAILED
    assert "NOT_IN_SCOPE" in result.error
    assert not any(e.type is EventType.CONTAINER_STARTED for e in result.events)


def test_files_from_package_value_and_output(runner: OpRunner, make_op) -> None:
    pkg = make_op("files", """
        name: files
        inputs:
          message: { string: { default: from-scope } }
        outputs:
          message: { file: {} }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'cat /config.txt /in; echo changed > /in']
            files:
              /config.txt:
              /in: $(message)
    """, files={"config.txt": "from-package\n"})
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    assert result.containers[0].stdout == b"from-package\nfrom-scope"
    # A string bound into a file mount comes back as a file holding what the container wrote.
    out = result.outputs["message"]
    assert isinstance(out, Path) and out.read_text() == "changed\n"
    # The package's own file was copied into place, not changed.
    assert (pkg / "config.txt").read_text() == "from-package\n"


def test_dirs_package_dir_scope_dir_and_empty_output_dir(runner: OpRunner, make_op, tmp_path: Path) -> None:
    src = tmp_path / "user-src"
    src.mkdir()
    (src / "a.txt").write_text("A")
    pkg = make_op("dirs", """
        name: dirs
        inputs:
          src: { dir: {} }
        outputs:
          out: { dir: {} }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'cat /assets/x.txt /src/a.txt; echo B > /src/b.txt; echo O > /out/o.txt']
            dirs:
              /assets:
              /src: $(src)
              /out: $(out)
    """, files={"assets/x.txt": "X"})
    result = runner.run(pkg, {"src": src})
    assert result.succeeded, result.summary()
    assert result.containers[0].stdout == b"XA"
    # A user's dir is bound directly (read-write), as the reference does.
    assert (src / "b.txt").read_text() == "B\n"
    out = result.outputs["out"]
    assert (out / "o.txt").read_text() == "O\n"


def test_work_dir(runner: OpRunner, make_op) -> None:
    pkg = make_op("workdir", """
        name: workdir
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [pwd]
            workDir: /tmp
    """)
    result = runner.run(pkg)
    assert result.containers[0].stdout == b"/tmp\n"


def test_name_reaches_another_container_of_the_same_root(runner: OpRunner, make_op) -> None:
    pkg = make_op("named", """
        name: named
        run:
          parallel:
            - container:
                image: { ref: 'alpine:3.19' }
                name: web
                cmd: [sh, -c, 'mkdir /www && echo served > /www/index.html && httpd -f -p 8080 -h /www']
            - serial:
              - container:
                  image: { ref: 'alpine:3.19' }
                  cmd: [sh, -c, 'for i in $(seq 50); do wget -q -O - http://web:8080/ && exit 0; sleep 0.1; done; exit 1']
              - container:
                  image: { ref: 'alpine:3.19' }
                  cmd: [sh, -c, 'exit 7']
    """)
    # The client succeeds (name resolution works); the last step fails, which ends the server too.
    result = runner.run(pkg)
    assert result.outcome is Outcome.FAILED
    # Parallel branches start in any order; the client is the one container that succeeded.
    assert sorted(c.exit_code for c in result.containers) == [0, 7, 137]
    client = next(c for c in result.containers if c.exit_code == 0)
    assert client.stdout == b"served\n"
    assert "Exit code was: 7" in result.error


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ports_bind_on_loopback(runner: OpRunner, make_op) -> None:
    port = _free_port()
    pkg = make_op("ports", f"""
        name: ports
        run:
          container:
            image: {{ ref: 'alpine:3.19' }}
            cmd: [sh, -c, 'mkdir /www && echo via-port > /www/index.html && httpd -f -p 80 -h /www']
            ports: {{ '80': '{port}' }}
    """)
    running = runner.start(pkg)
    body = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and body is None:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
        except OSError:
            time.sleep(0.1)
    result = running.kill()
    assert body == b"via-port\n"
    assert result.outcome is Outcome.KILLED


def test_network_socket_output_names_the_container(runner: OpRunner, make_op) -> None:
    pkg = make_op("sockets", """
        name: sockets
        outputs:
          server: { socket: {} }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [hostname]
            sockets: { 0.0.0.0: server }
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    container = result.containers[0]
    # `0.0.0.0: name` outputs {socket: <container id>}: other containers of the op reach it by that name.
    assert result.values["server"].type.value == "socket"
    assert result.outputs["server"] == container.id


def test_unix_socket_is_bound_into_the_container(runner: OpRunner, make_op, tmp_path: Path) -> None:
    host_socket = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(host_socket))
    server.listen(1)
    pkg = make_op("unix", """
        name: unix
        inputs:
          sock: { socket: {} }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            # busybox nc has no unix sockets; the bound path must be the host's socket
            cmd: [sh, -c, 'test -S /run/app.sock && test -f /var/placeholder.sock && echo bound']
            sockets:
              /run/app.sock: sock
              /var/placeholder.sock: notInScope
    """)
    from pytest_opspec.values import Value

    try:
        result = runner.run(pkg, {"sock": Value.socket(str(host_socket))})
    finally:
        server.close()
    assert result.succeeded, result.summary()
    assert result.containers[0].stdout == b"bound\n"


def test_socket_bound_to_a_non_socket_value_fails_clearly(runner: OpRunner, make_op) -> None:
    pkg = make_op("notsock", """
        name: notsock
        inputs:
          name: { string: { default: x } }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: ['true']
            sockets: { /run/x.sock: name }
    """)
    result = runner.run(pkg)
    assert result.outcome is Outcome.FAILED
    assert "not a socket" in result.error


def test_unresolved_file_reference_starts_empty_and_comes_back(runner: OpRunner, make_op) -> None:
    pkg = make_op("newfile", """
        name: newfile
        outputs:
          report: { file: {} }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'wc -c < /report; echo done > /report']
            files: { /report: $(report) }
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    assert result.containers[0].stdout.strip() == b"0"
    assert result.outputs["report"].read_text() == "done\n"


def test_nonzero_exit_fails_with_the_code(runner: OpRunner, make_op) -> None:
    pkg = make_op("exit3", """
        name: exit3
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo bye; exit 3'] } }
    """)
    result = runner.run(pkg)
    assert result.outcome is Outcome.FAILED
    assert result.containers[0].exit_code == 3
    assert "nonzero container exit code. Exit code was: 3" in result.error
    types = [e.type for e in result.events]
    assert types[-2:] == [EventType.OP_ERRED, EventType.OP_ENDED]
