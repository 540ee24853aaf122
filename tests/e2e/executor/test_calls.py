"""Op, serial and parallel calls; ids, ordering and scope flow (SEMANTICS §6-§8, §10)."""

from __future__ import annotations

import re
import time

from pytest_opspec.events import EventType, Outcome
from pytest_opspec.executor.runner import OpRunner

HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_serial_merges_outputs_into_scope_in_order(runner: OpRunner, make_op) -> None:
    pkg = make_op("serial", """
        name: serial
        outputs:
          second: { string: {} }
        run:
          serial:
            - container:
                image: { ref: 'alpine:3.19' }
                cmd: [echo, first=one]
                stdOut: { 'first=': first }
            - container:
                image: { ref: 'alpine:3.19' }
                cmd: [sh, -c, 'echo second=$(first)-two']
                stdOut: { 'second=': second }
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    assert result.outputs == {"second": "one-two"}
    ended = [e for e in result.events if e.type is EventType.SERIAL_CALL_ENDED]
    assert len(ended) == 1
    assert {k: v.data for k, v in ended[0].outputs.items()} == {"first": "one", "second": "one-two"}


def test_ids_and_event_order(runner: OpRunner, make_op) -> None:
    pkg = make_op("ids", """
        name: ids
        run:
          serial:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, a] }
            - parallel:
              - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, b] }
              - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, c] }
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    events = result.events
    assert HEX32.match(result.op_id)
    assert all(e.root_op_id == result.op_id for e in events)
    assert events[0].type is EventType.OP_STARTED and events[0].op_id == result.op_id
    assert events[-1].type is EventType.OP_ENDED and events[-1].op_id == result.op_id
    assert events[0].pkg_ref == str(pkg.resolve())
    serial_end = next(e for e in events if e.type is EventType.SERIAL_CALL_ENDED)
    assert UUID.match(serial_end.call_id)  # an op's run node: UUIDv4 with dashes
    for container in result.containers:
        assert HEX32.match(container.id)  # serial/parallel children: 32 hex
    # Sequence numbers and timestamps are strictly increasing together.
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert all(a.timestamp_ns < b.timestamp_ns for a, b in zip(events, events[1:], strict=False))
    # parallelCallEnded follows both children's containerExited.
    parallel_end = next(i for i, e in enumerate(events) if e.type is EventType.PARALLEL_CALL_ENDED)
    exits = [i for i, e in enumerate(events) if e.type is EventType.CONTAINER_EXITED]
    assert len(exits) == 3 and max(exits) < parallel_end


def test_parallel_children_run_at_the_same_time(runner: OpRunner, make_op) -> None:
    # Overlap, not wall time: every child has started before the first one exits (a timed bound flakes on a
    # loaded machine; children run one after another would exit between the starts).
    pkg = make_op("concurrent", """
        name: concurrent
        run:
          parallel:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '3'] }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '3'] }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '3'] }
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    types = [e.type for e in result.events]
    starts = [i for i, t in enumerate(types) if t is EventType.CONTAINER_STARTED]
    assert len(starts) == 3 and max(starts) < types.index(EventType.CONTAINER_EXITED)


def test_parallel_outputs_are_not_merged(runner: OpRunner, make_op) -> None:
    pkg = make_op("parallel-out", """
        name: parallel-out
        outputs:
          x: { string: { default: unset } }
        run:
          serial:
            - parallel:
              - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, x=set], stdOut: { 'x=': x } }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, '$(x)'] }
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    assert result.containers[1].stdout == b"$(x)\n"  # unresolved refs stay literal
    assert result.outputs == {"x": "unset"}


def test_op_call_binds_inputs_and_maps_outputs(runner: OpRunner, make_op, tmp_path) -> None:
    make_op("child", """
        name: child
        inputs:
          greeting: { string: {} }
          times: { number: { default: 1 } }
        outputs:
          shout: { string: {} }
          unbound: { string: { default: leaks-not } }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'echo "shout=$(greeting)!x$(times)"']
            stdOut: { 'shout=': shout }
    """, parent=tmp_path / "ops")
    parent = make_op("parent", """
        name: parent
        inputs:
          greeting: { string: { default: hey } }
        outputs:
          loud: { string: {} }
        run:
          serial:
            - op:
                pkg: { ref: child }
                inputs:
                  greeting:
                  times: 2
                outputs:
                  loud: shout
            - container:
                image: { ref: 'alpine:3.19' }
                cmd: [echo, '[$(loud)] [$(unbound)]']
    """, parent=tmp_path / "ops")
    result = runner.run(parent)
    assert result.succeeded, result.summary()
    assert result.outputs == {"loud": "hey!x2"}
    # Only mapped names flow back; the child's unbound default does not leak (§10.12).
    assert result.containers[1].stdout == b"[hey!x2] [$(unbound)]\n"
    child_started = [e for e in result.events if e.type is EventType.OP_STARTED and e.op_id != result.op_id]
    assert [e.pkg_ref for e in child_started] == ["child"]  # as written in the call
    child_end = next(e for e in result.events if e.type is EventType.OP_ENDED and e.op_id == child_started[0].op_id)
    assert {k: v.data for k, v in child_end.outputs.items()} == {"shout": "hey!x2", "unbound": "leaks-not"}


def test_op_call_to_a_missing_package_fails_without_op_started(runner: OpRunner, make_op) -> None:
    pkg = make_op("missing-child", """
        name: missing-child
        run:
          op: { pkg: { ref: no-such-op } }
    """)
    result = runner.run(pkg)
    assert result.outcome is Outcome.FAILED
    assert "no-such-op" in result.error
    started = [e for e in result.events if e.type is EventType.OP_STARTED]
    assert [e.op_id for e in started] == [result.op_id]


def test_op_without_run_succeeds_with_its_output_defaults(runner: OpRunner, make_op) -> None:
    pkg = make_op("norun", """
        name: norun
        outputs:
          answer: { number: { default: 42 } }
    """)
    result = runner.run(pkg)
    assert result.succeeded, result.summary()
    assert result.outputs == {"answer": 42}


def test_empty_serial_and_parallel_fail_as_invalid_call_graphs(runner: OpRunner, make_op) -> None:
    for kind in ("serial", "parallel"):
        pkg = make_op(f"empty-{kind}", f"""
            name: empty-{kind}
            run: {{ {kind}: [] }}
        """)
        result = runner.run(pkg)
        assert result.outcome is Outcome.FAILED, kind
        assert "invalid call graph" in result.error


def test_parallel_failure_cancels_siblings_and_fails_the_op(runner: OpRunner, make_op) -> None:
    pkg = make_op("parallel-fail", """
        name: parallel-fail
        run:
          parallel:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'sleep 0.3; exit 4'] }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'] }
            - op: { pkg: { ref: sleeper } }
    """)
    make_op("sleeper", """
        name: sleeper
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'] } }
    """)
    started = time.monotonic()
    result = runner.run(pkg)
    assert time.monotonic() - started < 20
    # The root fails with the error (not KILLED as the reference does, §10.10) ...
    assert result.outcome is Outcome.FAILED
    assert "Exit code was: 4" in result.error
    # ... the sibling op ends KILLED, and nothing follows the root's opEnded.
    sleeper_end = [e for e in result.events if e.type is EventType.OP_ENDED and e.op_id != result.op_id]
    assert [e.outcome for e in sleeper_end] == [Outcome.KILLED]
    assert result.events[-1].type is EventType.OP_ENDED and result.events[-1].op_id == result.op_id
    exit_codes = sorted(c.exit_code for c in result.containers)
    assert exit_codes == [4, 137, 137]


def test_nested_failure_reports_erred_then_ended_at_every_level(runner: OpRunner, make_op) -> None:
    make_op("inner", """
        name: inner
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'exit 9'] } }
    """)
    pkg = make_op("outer", """
        name: outer
        run:
          serial:
            - op: { pkg: { ref: inner } }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, never] }
    """)
    result = runner.run(pkg)
    assert result.outcome is Outcome.FAILED
    kinds = [(e.type, e.op_id == result.op_id) for e in result.events if e.type in
             (EventType.OP_ERRED, EventType.OP_ENDED)]
    assert kinds == [(EventType.OP_ERRED, False), (EventType.OP_ENDED, False),
                     (EventType.OP_ERRED, True), (EventType.OP_ENDED, True)]
    assert len(result.containers) == 1  # the serial stopped at the failure


def test_kill_mid_run_ends_everything_with_killed(runner: OpRunner, make_op) -> None:
    pkg = make_op("killme", """
        name: killme
        run:
          serial:
            - parallel:
              - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'] }
              - op: { pkg: { ref: sleeper2 } }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [echo, never] }
    """)
    make_op("sleeper2", """
        name: sleeper2
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'] } }
    """)
    running = runner.start(pkg)
    deadline = time.monotonic() + 20
    while sum(e.type is EventType.CONTAINER_STARTED for e in running.events) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let both containers really start
    result = running.kill()
    assert result.outcome is Outcome.KILLED
    assert result.error is None  # a kill is not an error: no opErred
    assert not any(e.type is EventType.OP_ERRED for e in result.events)
    assert result.events[-1].type is EventType.OP_ENDED and result.events[-1].outcome is Outcome.KILLED
    assert [c.exit_code for c in result.containers] == [137, 137]
    assert all(e.outcome is Outcome.KILLED for e in result.events if e.type is EventType.OP_ENDED)


def test_kill_before_containers_start_is_remembered(runner: OpRunner, make_op) -> None:
    pkg = make_op("killearly", """
        name: killearly
        run:
          serial:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'] }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'] }
    """)
    result = runner.start(pkg).kill()
    assert result.outcome is Outcome.KILLED
    assert len(result.containers) <= 1


def test_timeout_kills_the_op(runner: OpRunner, make_op) -> None:
    pkg = make_op("slow", """
        name: slow
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'] } }
    """)
    started = time.monotonic()
    result = runner.run(pkg, timeout=1.5)
    assert time.monotonic() - started < 15
    assert result.timed_out and result.outcome is Outcome.KILLED


def test_an_invalid_op_yml_fails_the_run_with_its_lines(runner: OpRunner, make_op) -> None:
    pkg = make_op("invalid", """
        name: invalid
        inputs:
          d: { dir: { default: 7 } }
        run: { container: { image: { ref: 'alpine:3.19' } } }
    """)
    result = runner.run(pkg, {"d": "/tmp"})
    assert result.outcome is Outcome.FAILED
    assert "op.yml:3:" in result.error and "inputs.d.dir.default" in result.error
    assert [e.type for e in result.events] == [EventType.OP_ERRED, EventType.OP_ENDED]


def test_a_cycle_between_packages_ends_with_an_error(runner: OpRunner, make_op) -> None:
    pkg = make_op("ping", "name: ping\nrun: { op: { pkg: { ref: pong } } }\n")
    make_op("pong", "name: pong\nrun: { op: { pkg: { ref: ping } } }\n")
    result = runner.run(pkg)
    assert result.outcome is Outcome.FAILED
    assert "nest deeper than 64 levels" in result.error
    assert result.containers == []


def test_releasing_a_running_root_deletes_its_files_once_it_ends(make_op, tmp_path) -> None:
    from pytest_opspec.backends.runtime import make_runtime
    from pytest_opspec.executor.executor import Executor

    from tests.support import IMAGE_MAP

    pkg = make_op("out", """
        name: out
        outputs: { report: { file: {} } }
        run:
          container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo x > /r; sleep 1'], files: { /r: $(report) } }
    """)
    with Executor(make_runtime(image_map=IMAGE_MAP), data_dir=tmp_path / "data", close_runtime=True) as executor:
        released = executor.start(pkg)
        root = executor.root(released)
        executor.release(released)  # still running: released when it ends
        kept = OpRunner(executor).run(pkg, timeout=60)
        assert kept.succeeded, kept.summary()
        assert root is not None and root.thread is not None
        root.thread.join(60)  # the root's own thread deletes its files as it ends
        assert root.outcome is Outcome.SUCCEEDED
        assert kept.outputs["report"].read_text() == "x\n"
        assert not (executor.data_dir / "runs" / released).exists()
        assert executor.root(released) is None and executor.root(kept.op_id) is not None
