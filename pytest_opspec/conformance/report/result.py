"""The machine-readable result file (JSON): the configuration (credentials redacted), the node, the
matrix and every check's outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ... import __version__

from ..config import redact_url
from ..registry import Level
from ..runner import Outcome, SuiteRun
from .matrix import matrix, verdict

FORMAT_VERSION = 1


def to_json(run: SuiteRun) -> dict[str, Any]:
    rows = matrix(run)
    return {
        "format": "opspec-conformance-result",
        "format_version": FORMAT_VERSION,
        "suite_version": __version__,
        "profile": run.profile.version,
        "node": {"url": redact_url(run.url), "bundled": run.bundled, "image": run.node_image,
                 "log": run.node_log if run.node_image else None},
        "started_at": run.started_at.isoformat().replace("+00:00", "Z"),
        "duration_s": round(run.duration, 3),
        "config": run.config.to_json(),
        "setup_error": run.setup_error,
        "verdict": verdict(run),
        "exit_status": run.exit_status,
        "summary": {
            "total": len(run.results),
            **{outcome.value: run.count(outcome) for outcome in Outcome},
            "matrix": {name: {level.value: {outcome.value: row[level].count(outcome) for outcome in Outcome}
                              for level in Level} for name, row in rows.items()},
        },
        "checks": [result.to_json() for result in run.results],
    }


def write_json(run: SuiteRun, path: Path) -> None:
    path.write_text(json.dumps(to_json(run), indent=2) + "\n", encoding="utf-8")
