"""The normalized, stable form of a run that snapshots store."""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from pathlib import Path

from pytest_opspec.events import Event, EventType, Outcome
from pytest_opspec.executor.result import RunResult
from pytest_opspec.plugin.snapshot import dump_normalized, normalize_result
from pytest_opspec.values import Value

PKG = "/home/someone/project/ops/build"


class Run:
    """Builds the events of one root op the way the executor publishes them."""

    def __init__(self, root: str | None = None) -> None:
        self.root = root or uuid.uuid4().hex
        self.events: list[Event] = []

    def add(self, kind: EventType, path: tuple[str, ...], **fields: object) -> None:
        self.events.append(Event(type=kind, root_op_id=self.root, seq=len(self.events) + 1, call_path=path,
                                 timestamp_ns=1_700_000_000_000_000_000 + len(self.events), **fields))

    def container(self, path: tuple[str, ...], container: str, line: str, exit_code: int = 0) -> list[tuple]:
        return [
            (EventType.CONTAINER_STARTED, path, dict(container_id=container, image_ref="alpine", pkg_ref=PKG)),
            (EventType.CONTAINER_STDOUT_WRITTEN_TO, path, dict(container_id=container, image_ref="", pkg_ref="",
                                                               data=b"Pulling fs layer\n")),
            (EventType.CONTAINER_STDOUT_WRITTEN_TO, path, dict(container_id=container, image_ref="alpine", pkg_ref=PKG,
                                                               data=line.encode())),
            (EventType.CONTAINER_EXITED, path, dict(container_id=container, image_ref="alpine", pkg_ref=PKG,
                                                    exit_code=exit_code, outputs={})),
        ]

    def result(self, **extra: object) -> RunResult:
        return RunResult.from_events(self.root, self.events, **extra)


def parallel_run(order: list[int]) -> RunResult:
    """A root whose run is a parallel call with three branches; ``order`` interleaves their events."""
    run = Run()
    root, block = run.root, str(uuid.uuid4())
    ids = [uuid.uuid4().hex for _ in range(3)]
    branches = [run.container((root, block, ids[i]), ids[i], f"branch {'abc'[i]} in /tmp/x/runs/{root}/f\n")
                for i in range(3)]
    run.add(EventType.OP_STARTED, (root,), op_id=root, pkg_ref=PKG)
    positions = [0, 0, 0]
    for branch in order:
        kind, path, fields = branches[branch][positions[branch]]
        positions[branch] += 1
        run.add(kind, path, **fields)
    run.add(EventType.PARALLEL_CALL_ENDED, (root, block), call_id=block)
    run.add(EventType.OP_ENDED, (root,), op_id=root, pkg_ref=PKG, outcome=Outcome.SUCCEEDED, outputs={})
    return run.result()


def test_parallel_branches_do_not_depend_on_arrival_order() -> None:
    first = normalize_result(parallel_run([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]))
    second = normalize_result(parallel_run([2, 1, 2, 0, 1, 2, 0, 0, 1, 2, 1, 0]))
    assert first == second
    events = first["events"]
    assert [list(e) for e in events] == [["opStarted"], ["parallel"], ["parallelCallEnded"], ["opEnded"]]
    branches = events[1]["parallel"]
    assert [[next(iter(e)) for e in branch] for branch in branches] == [
        ["containerStarted", "containerStdOutWrittenTo", "containerExited"]] * 3  # pull progress dropped
    assert [branch[1]["containerStdOutWrittenTo"]["data"] for branch in branches] == [
        "branch a in <scratch>/f\n", "branch b in <scratch>/f\n", "branch c in <scratch>/f\n"]
    assert [branch[0]["containerStarted"]["containerId"] for branch in branches] == [
        "container-1", "container-2", "container-3"]
    assert events[2] == {"parallelCallEnded": {"callId": "call-1"}}


def test_ids_become_ordinals_everywhere_and_paths_are_replaced() -> None:
    run = Run()
    root, child = run.root, uuid.uuid4().hex
    sibling = str(Path(PKG).parent / "lint")
    run.add(EventType.OP_STARTED, (root,), op_id=root, pkg_ref=PKG)
    run.add(EventType.OP_STARTED, (root, child), op_id=child, pkg_ref="lint")
    run.add(EventType.OP_ERRED, (root, child), op_id=child, pkg_ref="lint",
            msg=f"{sibling}/op.yml: op {child} failed in {PKG}2 and {tempfile.gettempdir()}/x")
    run.add(EventType.OP_ENDED, (root, child), op_id=child, pkg_ref="lint", outcome=Outcome.FAILED)
    run.add(EventType.OP_ERRED, (root,), op_id=root, pkg_ref=PKG, msg="\n-\n  it failed\n-")
    run.add(EventType.OP_ENDED, (root,), op_id=root, pkg_ref=PKG, outcome=Outcome.FAILED)
    normalized = normalize_result(run.result())
    assert normalized["outcome"] == "FAILED" and normalized["error"] == "it failed"
    assert normalized["events"][2] == {"opErred": {
        "opId": "op-2", "pkgRef": "lint",
        "msg": "<pkg>/../lint/op.yml: op op-2 failed in <pkg>/../build2 and <tmp>/x"}}
    assert all("timestamp" not in json.dumps(e) and root not in json.dumps(e) for e in normalized["events"])


def test_outputs_show_file_text_binary_digests_and_dir_listings(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text("all good\n")
    (tmp_path / "blob").write_bytes(b"\x00\xff\x10")
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "b.txt").write_text("bb")
    (out / "sub" / "a.txt").write_text("a")
    run = Run()
    outputs = {"report": Value.file(tmp_path / "report.txt"), "blob": Value.file(tmp_path / "blob"),
               "out": Value.dir(out), "n": Value.number(3.0), "cfg": Value.object({"path": f"{PKG}/cfg"})}
    run.add(EventType.OP_STARTED, (run.root,), op_id=run.root, pkg_ref=PKG)
    run.add(EventType.OP_ENDED, (run.root,), op_id=run.root, pkg_ref=PKG, outcome=Outcome.SUCCEEDED, outputs=outputs)
    normalized = normalize_result(run.result())
    assert normalized["outputs"] == {
        "blob": {"file": "<binary: 3 bytes, sha256 2da45f2cd1f9c8e6>"},
        "cfg": {"object": {"path": "<pkg>/cfg"}},
        "n": {"number": 3},
        "out": {"dir": {"b.txt": "2 bytes, sha256 3b64db95cb55c763", "sub/": "dir",
                        "sub/a.txt": "1 bytes, sha256 ca978112ca1bbdca"}},
        "report": {"file": "all good\n"},
    }
    ended = normalized["events"][-1]["opEnded"]["outputs"]
    assert ended["report"] == {"file": "<tmp>/" + str((tmp_path / "report.txt").relative_to(tempfile.gettempdir()))}


def test_dump_puts_one_event_per_line() -> None:
    text = dump_normalized(normalize_result(parallel_run([0, 1, 2] * 4)))
    assert json.loads(text)["outcome"] == "SUCCEEDED"
    lines = text.splitlines()
    assert lines[:4] == ["{", '  "outcome": "SUCCEEDED",', '  "outputs": {},', '  "events": [']
    assert lines[4].startswith('    {"opStarted": ') and lines[5] == '    {"parallel": ['
    assert lines[6] == "      [" and lines[7].startswith('        {"containerStarted": ')
    assert lines[-5:-2] == ["    ]},", '    {"parallelCallEnded": {"callId": "call-1"}},',
                            '    {"opEnded": {"opId": "op-1", "pkgRef": "<pkg>", "outcome": "SUCCEEDED", "outputs": {}}}']
    assert lines[-2:] == ["  ]", "}"]


def test_timed_out_runs_say_so() -> None:
    run = Run()
    run.add(EventType.OP_ENDED, (run.root,), op_id=run.root, pkg_ref=PKG, outcome=Outcome.KILLED)
    assert normalize_result(run.result(timed_out=True))["timedOut"] is True


def interleaved_run(streams: str, tmp_path: Path) -> RunResult:
    """One container writing ``o`` (stdout) and ``e`` (stderr) lines in the order of ``streams``."""
    run = Run()
    root, container = run.root, uuid.uuid4().hex
    run.add(EventType.OP_STARTED, (root,), op_id=root, pkg_ref=PKG)
    run.add(EventType.CONTAINER_STARTED, (root,), container_id=container, image_ref="alpine", pkg_ref=PKG)
    counts = {"o": 0, "e": 0}
    for stream in streams:
        counts[stream] += 1
        kind = EventType.CONTAINER_STDOUT_WRITTEN_TO if stream == "o" else EventType.CONTAINER_STDERR_WRITTEN_TO
        run.add(kind, (root,), container_id=container, image_ref="alpine", pkg_ref=PKG,
                data=f"{stream}{counts[stream]} {tmp_path}/in\n".encode())
    run.add(EventType.CONTAINER_EXITED, (root,), container_id=container, image_ref="alpine", pkg_ref=PKG, exit_code=0)
    run.add(EventType.OP_ENDED, (root,), op_id=root, pkg_ref=PKG, outcome=Outcome.SUCCEEDED, outputs={})
    return run.result()


def test_each_stream_keeps_its_order_but_not_their_interleaving(tmp_path: Path) -> None:
    forms = {dump_normalized(normalize_result(interleaved_run(order, tmp_path))) for order in ("ooee", "oeoe", "eoeo")}
    assert len(forms) == 1
    assert re.findall(r'"data": "(\w\d)', forms.pop()) == ["o1", "o2", "e1", "e2"]


def test_stable_paths_replace_a_tests_own_temp_dirs(tmp_path: Path) -> None:
    result = interleaved_run("oe", tmp_path)
    result.stable_paths = {str(tmp_path): "<tmp_path>", str(tmp_path.parent): "<basetemp>"}
    text = dump_normalized(normalize_result(result))
    assert "<tmp_path>/in" in text and str(tmp_path) not in text
