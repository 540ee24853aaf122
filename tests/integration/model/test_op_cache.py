"""The op cache on real packages: every corpus op comes back from it as parsed, and a cached load needs no
YAML library and no schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from pytest_opspec.model import InvalidOpError, load_op

from tests.support import REPO


def test_every_corpus_op_loads_the_same_from_the_cache(
        shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = shared / "corpus" / "opspec-pkgs"
    monkeypatch.setenv("OPSPEC_OP_CACHE", "off")
    parsed = {}
    for manifest in sorted(corpus.glob("*/op.yml")):
        try:
            parsed[manifest] = load_op(manifest)
        except InvalidOpError:
            continue
    assert len(parsed) > 1400
    cache = tmp_path / "ops"
    monkeypatch.setenv("OPSPEC_OP_CACHE", str(cache))
    for manifest in parsed:
        load_op(manifest)  # writes the entry
    assert len(list(cache.glob("*.json"))) >= len(parsed) - sum("isSecret" in m.read_text() for m in parsed)
    differ = [manifest.parent.name for manifest, op in parsed.items() if load_op(manifest) != op]
    assert differ == []


LOAD_AND_REPORT = """
import json, sys
from pytest_opspec.model import load_op
op = load_op(sys.argv[1])
print(json.dumps({"name": op.name, "yaml": "yaml" in sys.modules,
                  "schema": "pytest_opspec.model.schema" in sys.modules}))
"""


def test_a_cached_load_imports_no_yaml_library_and_no_schema(
        tmp_path: Path, make_op: Callable[..., Path]) -> None:
    pkg = make_op("cached", "name: cached\nrun:\n  container:\n    image: { ref: 'opspec-test/busybox:1' }\n")
    env_cache = {"OPSPEC_OP_CACHE": str(tmp_path / "ops")}

    def load() -> dict[str, object]:
        done = subprocess.run([sys.executable, "-c", LOAD_AND_REPORT, str(pkg)], capture_output=True, text=True,
                              cwd=REPO, env={**os.environ, **env_cache}, timeout=60, check=True)
        return dict(json.loads(done.stdout))

    assert load() == {"name": "cached", "yaml": True, "schema": True}
    assert load() == {"name": "cached", "yaml": False, "schema": False}
    (pkg / "op.yml").write_text((pkg / "op.yml").read_text().replace("name: cached", "name: edited"))
    assert load() == {"name": "edited", "yaml": True, "schema": True}

