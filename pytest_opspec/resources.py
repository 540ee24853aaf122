"""Locate the JSON/OpenAPI schemas shipped with the package."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
# In a wheel the schemas live inside the package; in a source checkout they sit beside it.
_CANDIDATES = (_HERE / "schemas", _HERE.parent / "schemas")


def schema_path(name: str) -> Path:
    for directory in _CANDIDATES:
        path = directory / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"schema {name!r} not found in {', '.join(map(str, _CANDIDATES))}")


@functools.cache
def load_json_schema(name: str) -> Any:
    return json.loads(schema_path(name).read_text(encoding="utf-8"))
