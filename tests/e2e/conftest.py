"""End-to-end tests: real ops on the real Docker engine."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest

from pytest_opspec.executor import Executor, OpRunner
from pytest_opspec.runtime.base import LABEL_OWNER

from ..support import IMAGE_MAP, TEST_IMAGE

__all__ = ["IMAGE_MAP", "TEST_IMAGE"]


@pytest.fixture(scope="session")
def executor(tmp_path_factory: pytest.TempPathFactory):
    executor = Executor(data_dir=tmp_path_factory.mktemp("executor-data"), image_map=IMAGE_MAP)
    yield executor
    owner = executor.owner
    executor.close()
    # Nothing the suite created may outlive it.
    from pytest_opspec.runtime.docker import DockerRuntime

    runtime = DockerRuntime()
    try:
        containers, networks = runtime.list_labelled({LABEL_OWNER: owner})
    finally:
        runtime.close()
    assert (containers, networks) == ([], []), "containers/networks left behind by the test session"


@pytest.fixture
def runner(executor: Executor) -> OpRunner:
    return OpRunner(executor, timeout=60)


OpFactory = Callable[..., Path]


@pytest.fixture
def make_op(tmp_path: Path) -> OpFactory:
    """Write an op package: ``make_op("name", op_yml_text, files={"rel/path": "content"})``."""

    def make(name: str, op_yml: str, files: dict[str, str] | None = None, parent: Path | None = None) -> Path:
        pkg = (parent or tmp_path) / name
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "op.yml").write_text(textwrap.dedent(op_yml).lstrip())
        for relative, content in (files or {}).items():
            path = pkg / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        return pkg

    return make
