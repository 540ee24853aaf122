"""Images (pull policy, image map, pullCreds against a real registry) and a missing engine."""

from __future__ import annotations

import time
from pathlib import Path

import docker
import pytest

from pytest_opspec.errors import EngineUnavailableError
from pytest_opspec.events import Outcome
from pytest_opspec.backends.runtime import make_runtime
from pytest_opspec.executor.executor import Executor
from pytest_opspec.executor.runner import OpRunner
from pytest_opspec.runtime.docker import DockerRuntime

from tests.support.registry import RegistryProcess
from tests.support import TEST_IMAGE


def test_missing_image_with_pull_policy_never_fails_clearly(make_op, tmp_path: Path) -> None:
    pkg = make_op("missing", """
        name: missing
        run: { container: { image: { ref: 'example.invalid/nope:1' }, cmd: ['true'] } }
    """)
    with Executor(make_runtime(pull_policy="never"), data_dir=tmp_path / "d", close_runtime=True) as executor:
        result = OpRunner(executor).run(pkg, timeout=30)
    assert result.outcome is Outcome.FAILED
    assert "example.invalid/nope:1 is not present locally" in result.error
    container = result.containers[0]
    assert (container.exit_reason, container.exit_code, container.started) == ("not-started", None, False)  # never ran


def test_missing_image_that_cannot_be_pulled_fails_clearly(runner: OpRunner, make_op) -> None:
    pkg = make_op("unpullable", """
        name: unpullable
        run: { container: { image: { ref: 'example.invalid/nope:1' }, cmd: ['true'] } }
    """)
    result = runner.run(pkg)
    assert result.outcome is Outcome.FAILED
    assert "pulling image example.invalid/nope:1 failed" in result.error


def test_image_map_rewrites_refs(make_op, tmp_path: Path) -> None:
    pkg = make_op("mapped", """
        name: mapped
        run: { container: { image: { ref: 'registry.example/team/tool:2.0' }, cmd: [echo, mapped] } }
    """)
    with Executor(make_runtime(image_map={"registry.example/team/tool:2.0": TEST_IMAGE}, pull_policy="never"),
                  data_dir=tmp_path / "d", close_runtime=True) as executor:
        result = OpRunner(executor).run(pkg, timeout=30)
    assert result.succeeded, result.summary()
    # Events keep the ref the op asked for.
    assert result.containers[0].image_ref == "registry.example/team/tool:2.0"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory):
    process = RegistryProcess(tmp_path_factory.mktemp("registry"))
    yield process
    process.stop()


def test_pull_creds_authenticate_against_a_real_registry(registry: RegistryProcess, make_op, tmp_path) -> None:
    image = registry.push(TEST_IMAGE, f"opspec/private-{time.time_ns()}:1")
    pkg = make_op("private", """
        name: private
        inputs:
          image: { string: {} }
          user: { string: {} }
          password: { string: { isSecret: true } }
        run:
          container:
            image:
              ref: $(image)
              pullCreds: { username: $(user), password: $(password) }
            cmd: [echo, pulled]
    """)
    creds = registry.registry
    try:
        with Executor(make_runtime(), data_dir=tmp_path / "d", close_runtime=True) as executor:
            runner = OpRunner(executor)
            denied = runner.run(pkg, {"image": image, "user": creds.username, "password": "wrong"}, timeout=60)
            assert denied.outcome is Outcome.FAILED
            assert f"pulling image {image} failed" in denied.error
            result = runner.run(pkg, {"image": image, "user": creds.username, "password": creds.password},
                                timeout=60)
        assert result.succeeded, result.summary()
        assert result.containers[-1].stdout == b"pulled\n"
        # The reference publishes pull progress as stdout events with no package ref.
        assert any(e.data and not e.pkg_ref for e in result.events)
    finally:
        client = docker.from_env()
        try:
            client.images.remove(image, force=True)
        except docker.errors.ImageNotFound:
            pass
        client.close()


def test_missing_engine_fails_fast_with_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    started = time.monotonic()
    with pytest.raises(EngineUnavailableError) as raised:
        DockerRuntime()
    assert time.monotonic() - started < 5
    message = str(raised.value)
    assert "no Docker engine answers" in message and "\n" not in message


def test_unreachable_engine_address_fails_within_five_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    # A TCP address that accepts nothing: the connect must time out quickly, not hang.
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.255.255.1:2375")
    started = time.monotonic()
    with pytest.raises(EngineUnavailableError):
        DockerRuntime()
    assert time.monotonic() - started < 5
