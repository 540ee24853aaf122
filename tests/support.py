"""Where the repository, its test data and the team's shared/ dir are."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
EXAMPLES = REPO / "examples"


def shared_dir() -> Path | None:
    """The shared/ dir (spec, corpus): $OPSPEC_SHARED_DIR, else ../shared beside the repo, else /work/shared."""
    candidates = [os.environ.get("OPSPEC_SHARED_DIR"), REPO.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "corpus" / "opspec-pkgs" / "INDEX.json").is_file():
            return Path(candidate)
    return None
