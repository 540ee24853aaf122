"""Where the repository, its test data and the team's shared/ dir are."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
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
