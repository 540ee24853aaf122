"""End-to-end tests: real ops on the real Docker engine."""

from __future__ import annotations

import pytest

from pytest_opspec.executor import Executor, OpRunner

from ..support import IMAGE_MAP, TEST_IMAGE, assert_no_resources

__all__ = ["IMAGE_MAP", "TEST_IMAGE"]


@pytest.fixture(scope="session")
def executor(tmp_path_factory: pytest.TempPathFactory):
    executor = Executor(data_dir=tmp_path_factory.mktemp("executor-data"), image_map=IMAGE_MAP)
    yield executor
    executor.close()
    assert_no_resources(executor.owner)  # nothing the suite created may outlive it


@pytest.fixture
def runner(executor: Executor) -> OpRunner:
    return OpRunner(executor, timeout=60)
