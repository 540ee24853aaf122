"""`--node-image`: the node under test started from an image built here (busybox's httpd serving an empty
/liveness, nothing of the API), judged, its log attached, and its container removed whatever happens."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Iterator

import docker
import pytest

from pytest_opspec.cli import main
from pytest_opspec.conformance.node_container import LABEL_ROLE, ROLE
from pytest_opspec.runtime.base import LABEL_OWNER, LABEL_PID
from tests.support import TEST_IMAGE, labelled

STUB_PORT = "8080"
STUB_DOCKERFILE = f"""\
FROM {TEST_IMAGE}
RUN mkdir /www && touch /www/liveness
CMD ["httpd", "-f", "-vv", "-p", "{STUB_PORT}", "-h", "/www"]
"""


@pytest.fixture(scope="module")
def stub_image() -> Iterator[str]:
    """A node that answers GET /liveness (an empty file) and nothing of the API; removed afterwards."""
    tag = f"opspec-test/conformance-stub-node:{os.getpid()}"
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as archive:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(STUB_DOCKERFILE)
        archive.addfile(info, io.BytesIO(STUB_DOCKERFILE.encode()))
    context.seek(0)
    client = docker.from_env(timeout=120)
    try:
        client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, forcerm=True,
                            labels={LABEL_OWNER: f"test-node-image-{os.getpid()}"})
        yield tag
    finally:
        client.images.remove(tag, force=True)
        client.close()


def node_containers(pid: int | None = None) -> list[str]:
    """The node containers a process (this one by default) has on the engine."""
    return labelled({LABEL_ROLE: ROLE, LABEL_PID: str(pid or os.getpid())})[0]


@pytest.fixture(autouse=True)
def no_container_left() -> Iterator[None]:
    yield
    assert node_containers() == [], "a node container was left behind"


def test_a_stub_answering_only_liveness_is_not_conformant_and_its_log_is_attached(
        stub_image: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "note").write_text("mounted note\n")
    report = tmp_path / "report.json"
    status = main(["conformance", "--node-image", stub_image, "--node-port", STUB_PORT,
                   "--node-env", "GREETING=hello from the env",
                   "--node-volume", f"{config}:/config:ro",
                   "--node-cmd", f"sh -c 'echo stub says $GREETING; cat /config/note; "
                                 f"exec httpd -f -vv -p {STUB_PORT} -h /www'",
                   "--select", "liveness.*", "--select", "pkgs.contents.list", "--select", "ops.starts.json-id",
                   "--timeout", "5", "--report-json", str(report)])
    out = capsys.readouterr().out
    assert status == 1
    assert f"checking a node started from image {stub_image}" in out
    assert "PASS     liveness.ok [MUST]" in out and "FAIL     pkgs.contents.list [MUST]" in out
    assert "NOT CONFORMANT" in out
    # the node's log, as it was while the listing failed: httpd's lines about that request
    assert "  the node's log meanwhile:\n" in out and "/contents" in out.split("FAIL pkgs.contents.list")[1]
    document = json.loads(report.read_text())
    assert document["node"]["image"] == stub_image
    assert "stub says hello from the env" in document["node"]["log"]
    assert "mounted note" in document["node"]["log"]
    assert document["config"]["node_env"] == ["GREETING"]  # names only: values may be secrets


def test_a_node_that_never_answers_is_a_set_up_error_naming_liveness(
        stub_image: str, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    status = main(["conformance", "--node-image", stub_image, "--node-port", STUB_PORT, "--node-cmd", "sleep 600",
                   "--timeout", "2"])
    out = capsys.readouterr().out
    assert status == 3
    assert "SET-UP ERROR: the node could not be checked: the node in container" in out
    assert f"never answered GET /liveness on its port {STUB_PORT}" in out and "within 2 s" in out
    assert "NOT CONFORMANT" not in out and "\nFAIL" not in out
    assert time.monotonic() - started < 30


def test_a_node_that_exits_is_a_set_up_error_with_its_log(stub_image: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["conformance", "--node-image", stub_image, "--node-cmd", "sh -c 'echo no config here >&2; exit 4'",
                   "--timeout", "5"])
    out = capsys.readouterr().out
    assert status == 3
    assert "exited with code 4 before answering GET /liveness" in out and "no config here" in out


def test_an_image_missing_on_the_engine_is_a_set_up_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--node-image", "opspec-test/no-such-node:1", "--timeout", "2"]) == 3
    assert "--node-image opspec-test/no-such-node:1: no such image on the local engine" in capsys.readouterr().out


def test_pytest_ends_with_the_set_up_error_status(stub_image: str, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--opspec-conformance", f"--opspec-conformance-node-image={stub_image}",
                                f"--opspec-conformance-node-port={STUB_PORT}",
                                "--opspec-conformance-node-cmd=sleep 600", "--opspec-conformance-timeout=2",
                                "-k", "liveness", "-p", "no:cacheprovider")
    assert result.ret == 3
    result.stdout.fnmatch_lines(["*opspec conformance: set-up error: the node could not be checked: *never answered "
                                 "GET /liveness*"])


def test_sigterm_while_waiting_for_the_node_removes_its_container(stub_image: str) -> None:
    process = subprocess.Popen([sys.executable, "-m", "pytest_opspec.cli", "conformance", "--node-image", stub_image,
                                "--node-port", STUB_PORT, "--node-cmd", "sleep 600", "--timeout", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not node_containers(process.pid):
            assert time.monotonic() < deadline and process.poll() is None, "no node container started"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert node_containers(process.pid) == []
