"""Conformance suite tests: the suite run in-process against bundled nodes (real engine), some of them
deliberately broken."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from pytest_opspec.conformance.config import Config
from pytest_opspec.conformance.runner import Outcome, Suite, SuiteRun
from pytest_opspec.backends.runtime import make_runtime
from pytest_opspec.node.core import Node, NodeSettings
from pytest_opspec.node.server import BackgroundNode
from pytest_opspec.runtime.base import LABEL_OWNER
from pytest_opspec.runtime.docker import DockerRuntime

from tests.support import TEST_IMAGE, assert_no_resources

NodeStarter = Callable[..., BackgroundNode]


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[NodeStarter]:
    """start_node(runtime=None, **settings) -> a running BackgroundNode, stopped (and checked for
    leftovers) at the end of the test."""
    started: list[BackgroundNode] = []

    def start(runtime: Any = None, **settings: Any) -> BackgroundNode:
        node = Node(NodeSettings(data_dir=tmp_path / f"node-{len(started)}", **settings), runtime or make_runtime())
        started.append(BackgroundNode(node).start())
        return started[-1]

    yield start
    for node in started:
        node.stop()
    for node in started:
        owner = node.node.executor.owner
        if node.node.settings.keep_containers:  # left on purpose, as a person debugging would; remove them
            runtime = DockerRuntime()
            try:
                runtime.sweep({LABEL_OWNER: owner})
            finally:
                runtime.close()
        assert_no_resources(owner)


def run_suite(url: str | None, *select: str, **config: Any) -> SuiteRun:
    return Suite(Config(url=url, select=select, image=TEST_IMAGE, **config)).run()


def outcomes(run: SuiteRun, outcome: Outcome) -> set[str]:
    return {result.check.id for result in run.results if result.outcome is outcome}


def describe(run: SuiteRun) -> str:
    """Every check that did not pass, with its message (for assertion messages)."""
    return "\n".join(f"{r.outcome.value} {r.check.id}: {r.message}" for r in run.results
                     if r.outcome is not Outcome.PASS) or "(all passed)"
