"""The engine disappears mid-op (for this node only: it talks to the engine through a proxy that the
test cuts; the engine others use is untouched): the op errs with the engine's error, no container is
reported exited while it still runs, and a kill of the ended op answers 204."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from pytest_opspec.events import EventType, Outcome
from pytest_opspec.node.client import NodeClient
from pytest_opspec.runtime.base import LABEL_ROOT_OP
from pytest_opspec.runtime.docker import DockerRuntime
from tests.support import IMAGE_MAP, labelled
from tests.support.engine_proxy import EngineProxy

from .conftest import NodeFactory


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[EngineProxy]:
    with EngineProxy(tmp_path / "engine.sock") as running:
        yield running


def test_losing_the_engine_mid_op_errs_the_op(node_factory: NodeFactory, proxy: EngineProxy, sleep_op: Path,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", proxy.url)
    runtime = DockerRuntime(image_map=IMAGE_MAP)
    monkeypatch.undo()
    node = node_factory(runtime=runtime)
    op_id = ""
    try:
        with NodeClient(node.url, timeout=30) as client:
            op_id = client.start_op(str(sleep_op))
            events = []
            with client.events(since=0, roots=[op_id], timeout=60) as stream:
                for event in stream:
                    events.append(event)
                    if event.type is EventType.CONTAINER_STDOUT_WRITTEN_TO:
                        proxy.cut()
                    if event.type is EventType.OP_ENDED:
                        break
            # the op is marked ended: a kill is an acknowledged no-op, not a 500
            client.kill_op(op_id)
        types = [event.type for event in events]
        assert EventType.CONTAINER_EXITED not in types, "reported a container exited that still runs"
        erred = next(event for event in events if event.type is EventType.OP_ERRED)
        assert "engine" in (erred.msg or "")
        assert events[-1].outcome is Outcome.FAILED
        assert labelled({LABEL_ROOT_OP: op_id})[0], "the container runs on: the engine never told it to stop"
    finally:
        # the node could not remove its container; remove it through the real engine
        if op_id:
            cleaner = DockerRuntime()
            try:
                cleaner.sweep({LABEL_ROOT_OP: op_id})
            finally:
                cleaner.close()
