"""`opspec conformance`: check a node against the opspec node API, with a report (the suite lives in
pytest_opspec/conformance/)."""

from __future__ import annotations

from ..conformance.cli import configure, run

__all__ = ["configure", "run"]
