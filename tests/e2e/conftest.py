"""End-to-end tests: real ops on the real Docker engine."""

from __future__ import annotations

import pytest

from pytest_opspec.backends.runtime import make_runtime
from pytest_opspec.executor.executor import Executor
from pytest_opspec.executor.runner import OpRunner

from tests.support import IMAGE_MAP, assert_no_resources


@pytest.fixture(scope="session")
def executor(tmp_path_factory: pytest.TempPathFactory):
    executor = Executor(make_runtime(image_map=IMAGE_MAP), data_dir=tmp_path_factory.mktemp("executor-data"),
                        close_runtime=True)
    yield executor
    executor.close()
    assert_no_resources(executor.owner)  # nothing the suite created may outlive it


@pytest.fixture
def runner(executor: Executor) -> OpRunner:
    return OpRunner(executor, timeout=60)
