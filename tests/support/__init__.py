"""Where the repository, its test data and the team's shared/ dir are."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Mapping

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
EXAMPLES = REPO / "examples"

TEST_IMAGE = os.environ.get("OPSPEC_TEST_IMAGE", "opspec-test/busybox:1")
# Test packages name public images, as real ops do; the image map runs them on the local test image.
IMAGE_MAP = {"alpine:3.19": TEST_IMAGE, "alpine": TEST_IMAGE}


def shared_dir() -> Path | None:
    """The team's shared/ dir (spec, corpus), or None.

    $OPSPEC_SHARED_DIR when set (set it to a missing path to run as a user's clone would);
    otherwise ../shared beside the repository, then /work/shared.
    """
    explicit = os.environ.get("OPSPEC_SHARED_DIR")
    candidates = [explicit] if explicit else [REPO.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if (Path(candidate) / "corpus" / "opspec-pkgs" / "INDEX.json").is_file():
            return Path(candidate)
    return None


def write_package(root: Path, relative: str, op_yml: str, files: Mapping[str, str] | None = None) -> Path:
    """Write an op package (its op.yml, dedented, and any other files); return its directory."""
    pkg = root / relative
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "op.yml").write_text(textwrap.dedent(op_yml).lstrip("\n"), encoding="utf-8")
    for name, text in (files or {}).items():
        target = pkg / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return pkg


def labelled(labels: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The names of the containers and networks on the engine that carry all these labels."""
    from pytest_opspec.runtime.docker import DockerRuntime

    runtime = DockerRuntime()
    try:
        return runtime.list_labelled(labels)
    finally:
        runtime.close()


def assert_no_resources(owner: str) -> None:
    from pytest_opspec.runtime.base import LABEL_OWNER

    assert labelled({LABEL_OWNER: owner}) == ([], []), "containers/networks left behind"
