"""Time `opspec validate` and `pytest --collect-only --opspec` over the whole op.yml corpus.

Usage: python benchmarks/validate_corpus.py [CORPUS_DIR]
CORPUS_DIR defaults to the corpus in the team's shared/ dir ($OPSPEC_SHARED_DIR, ../shared or
/work/shared). Prints wall times, ms per package and the ratio to each target; it also checks that
`opspec validate` gave every corpus folder the verdict of INDEX.json or of a reviewed decision
(tests/data/corpus_decisions.json).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"validate": 10.0, "collect": 5.0}


def find_corpus(argv: list[str]) -> Path:
    if argv:
        return Path(argv[0]).resolve()
    for shared in (os.environ.get("OPSPEC_SHARED_DIR"), REPO.parent / "shared", "/work/shared"):
        if shared and (Path(shared) / "corpus" / "opspec-pkgs" / "INDEX.json").is_file():
            return Path(shared) / "corpus" / "opspec-pkgs"
    sys.exit("no corpus found: pass its path, or set OPSPEC_SHARED_DIR to the shared/ dir")


def timed(argv: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, result


def line(label: str, seconds: float, packages: int, target: float) -> str:
    return (f"{label:<34} {seconds:6.2f} s wall, {1000 * seconds / packages:5.2f} ms/package "
            f"(target {target:.0f} s: {seconds / target:.2f}x)")


def main(argv: list[str]) -> int:
    corpus = find_corpus(argv)
    index_file = corpus / "INDEX.json"
    index = ({e["folder"]: e["verdict"] for e in json.loads(index_file.read_text())["entries"]}
             if index_file.is_file() else {})

    seconds, result = timed([sys.executable, "-m", "pytest_opspec.cli", "validate", "--format", "json",
                             str(corpus)])
    if result.returncode not in (0, 1):
        sys.exit(f"opspec validate failed ({result.returncode}):\n{result.stderr}")
    report = json.loads(result.stdout)
    packages = report["summary"]["packages"]
    print(f"corpus: {corpus} ({len(index) or '?'} folders, {packages} packages)")
    print(line("opspec validate", seconds, packages, TARGETS["validate"]))

    seconds, result = timed([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                             "--opspec", str(corpus)])
    collected = sum(1 for row in result.stdout.splitlines() if row.endswith("::validate"))
    if result.returncode != 0 or collected != packages:
        sys.exit(f"pytest --collect-only failed ({result.returncode}, {collected} items):\n{result.stdout[-2000:]}")
    print(line("pytest --collect-only --opspec", seconds, packages, TARGETS["collect"]))

    if index:
        decisions = json.loads((REPO / "tests" / "data" / "corpus_decisions.json").read_text())["folders"]
        verdicts = {Path(p["package"]).name: p["valid"] for p in report["packages"]
                    if Path(p["package"]).parent == corpus}
        agree = sum(1 for folder, verdict in index.items()
                    if verdicts.get(folder) is ((decisions.get(folder) is None) and verdict == "valid"))
        print(f"verdicts: {agree}/{len(index)} as INDEX.json states or as a reviewed decision "
              f"({len(decisions)} decisions)")
        return 0 if agree == len(index) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
