"""The suite as users get it: the wheel installed (with its `conformance` extra) into a fresh virtual
environment, run as `opspec conformance` and as `pytest --opspec-conformance URL` from outside the
repository. This proves conformance/, its op packages and schemas/ are shipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO, TEST_IMAGE
from .conftest import NodeStarter

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(REPO)],
                   check=True)
    wheel = next((root / "dist").glob("pytest_opspec-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    subprocess.run([str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", f"{wheel}[conformance]"], check=True)
    return root / "venv"


def run(venv: Path, cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """A command of the venv, run outside the repository and with no setting of ours inherited."""
    env = {key: value for key, value in os.environ.items()
           if key != "PYTHONPATH" and not key.startswith("OPSPEC_CONFORMANCE_")}
    return subprocess.run([str(venv / "bin" / command[0]), *command[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_wheel_holds_the_suite(venv: Path, tmp_path: Path) -> None:
    found = run(venv, tmp_path, "python", "-c", "import pytest_opspec.conformance.pkgs as p, "
                                                "pytest_opspec.conformance.openapi as o; "
                                                "print(p.TEMPLATES); print(o.api_document()['info'])")
    assert found.returncode == 0, found.stderr
    # The suite lives inside the package: no generic top-level `conformance` in site-packages.
    assert run(venv, tmp_path, "python", "-c", "import conformance").returncode != 0
    templates, info = found.stdout.splitlines()
    assert templates.startswith(str(venv)) and (Path(templates) / "conformance-quick" / "op.yml.in").is_file()
    assert "'version': '0.1.5'" in info


def test_opspec_conformance_checks_the_bundled_node(venv: Path, tmp_path: Path) -> None:
    result = run(venv, tmp_path, "opspec", "conformance", "--image", TEST_IMAGE, "--report-json", "r.json",
                 "--report-html", "r.html", "--junit-xml", "r.xml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CONFORMANT to the opspec 0.1.5 node API at MUST level" in result.stdout
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["summary"]["pass"] == document["summary"]["total"] > 40
    assert (tmp_path / "r.html").is_file() and (tmp_path / "r.xml").is_file()


def test_pytest_opspec_conformance_checks_a_node_at_a_url(venv: Path, tmp_path: Path,
                                                           start_node: NodeStarter) -> None:
    url = start_node().url
    result = run(venv, tmp_path, "python", "-m", "pytest", f"--opspec-conformance={url}",
                 f"--opspec-conformance-image={TEST_IMAGE}", "--opspec-conformance-report-json=r.json",
                 "--junit-xml=junit.xml", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"profile 0.1.5 against {url}" in result.stdout
    document = json.loads((tmp_path / "r.json").read_text())
    assert f" {document['summary']['total']} passed in " in result.stdout.rstrip().splitlines()[-1]
    assert (tmp_path / "junit.xml").is_file()
