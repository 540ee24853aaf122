"""Whole-process start-up costs, each against its baseline, measured side by side in one run.

    python benchmarks/startup.py [--rounds N] [--image IMAGE]

Every command runs as a fresh process, rounds interleaved (A B C ... A B C ...) so that drift of a shared
machine hits all alike. Each figure is the median, over the rounds, of the ratio of a command's wall time to
its baseline's in the same round (a round's drift cancels out); the times printed are medians. Python's
bytecode is cached as on an installed machine (in a temporary PYTHONPYCACHEPREFIX, filled by the uncounted
warm-up round), also where the caller's environment sets PYTHONDONTWRITEBYTECODE, which would recompile
every module at every start. Likewise the op cache (parsed op.yml files found valid) lives in the temporary
dir and is filled by the warm-up round: an op run again, as in an edit-run loop or a CI re-run.
  opspec run          a bare one-container op (`true`) against `docker run --rm IMAGE true`, and
                      `opspec run examples/hello` (an input with constraints, a shell printing a line that
                      becomes an output) against `docker run` of the same container (env, shell, line).
                      Target <= 1.30x (stretch 1.15x). Also shown, without a target: the bare op with
                      the op cache off (OPSPEC_OP_CACHE=off), as the first run of a new or edited op.
  plugin unused       pytest running one trivial test with pytest-opspec installed, against the same run with
                      `-p no:opspec`. Target <= 1.10x.
  plugin start-up     `pytest --opspec PKG --collect-only` on one package, against `pytest --collect-only` of one
                      trivial test. Target <= 1.30x.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = str(cwd / ".pycache")
    environment["OPSPEC_OP_CACHE"] = str(cwd / ".op-cache")
    environment.update(env)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}")
    return elapsed


def interleaved(commands: dict[str, tuple[list[str], Path, dict[str, str]]], rounds: int) -> dict[str, list[float]]:
    """Wall times of each command in ``rounds`` interleaved rounds (after one warm-up round)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_number in range(rounds + 1):
        for name, (command, cwd, env) in commands.items():
            elapsed = timed(command, cwd, env)
            if round_number:
                times[name].append(elapsed)
    return times


def figure(name: str, values: list[float], baselines: list[float], target: float,
           stretch: float | None = None) -> str:
    ratio = statistics.median(value / baseline for value, baseline in zip(values, baselines, strict=True))
    verdict = "met" if ratio <= target else "NOT met"
    extra = f", stretch {stretch:.2f}x {'met' if ratio <= stretch else 'not met'}" if stretch else ""
    return f"figure: {name:34s} {ratio:5.2f}x  (target <= {target:.2f}x: {verdict}{extra})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--image", default="opspec-test/busybox:1")
    options = parser.parse_args()
    image = options.image

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "pytest.ini").write_text("[pytest]\n")  # its own rootdir: no ini of the repository applies
        (work / "test_trivial.py").write_text("def test_trivial():\n    assert True\n")
        shutil.copytree(ROOT / "examples" / "hello", work / "hello")
        bare = work / "bare"
        bare.mkdir()
        (bare / "op.yml").write_text(f"name: bare\nrun:\n  container:\n    image: {{ ref: '{image}' }}\n"
                                     "    cmd: ['true']\n")
        opspec = str(BIN / "opspec")
        pytest = [sys.executable, "-m", "pytest", "-q"]
        commands = {
            "docker run": (["docker", "run", "--rm", image, "true"], work, {}),
            "docker run hello": (["docker", "run", "--rm", "-e", "WHO=world", image, "sh", "-c",
                                  'echo "greeting=Hello, $WHO!"'], work, {}),
            "opspec run hello": ([opspec, "run", "hello", "--image-map", f"alpine:3.19={image}"], work, {}),
            "opspec run bare": ([opspec, "run", "bare"], work, {}),
            "opspec run bare, no op cache": ([opspec, "run", "bare"], work, {"OPSPEC_OP_CACHE": "off"}),
            "pytest -p no:opspec": ([*pytest, "-p", "no:opspec", "test_trivial.py"], work, {}),
            "pytest (plugin unused)": ([*pytest, "test_trivial.py"], work, {}),
            "pytest --co": ([*pytest, "--collect-only", "test_trivial.py"], work, {}),
            "pytest --opspec PKG --co": ([*pytest, "--opspec", "hello", "--collect-only"], work, {}),
        }
        times = interleaved(commands, options.rounds)

    print(f"medians of {options.rounds} interleaved rounds (wall time, whole process):")
    for name, values in times.items():
        print(f"  {name:28s} {statistics.median(values) * 1000:7.0f} ms")
    print(figure("opspec run hello / its docker run", times["opspec run hello"], times["docker run hello"], 1.30,
                 1.15))
    print(figure("opspec run bare / docker run", times["opspec run bare"], times["docker run"], 1.30, 1.15))
    no_cache = statistics.median(value / baseline for value, baseline in
                                 zip(times["opspec run bare, no op cache"], times["docker run"], strict=True))
    print(f"  (opspec run bare with no op cache / docker run: {no_cache:.2f}x; no target)")
    print(figure("plugin unused / -p no:opspec", times["pytest (plugin unused)"], times["pytest -p no:opspec"],
                 1.10))
    print(figure("pytest --opspec 1 pkg start-up", times["pytest --opspec PKG --co"], times["pytest --co"], 1.30))
    return 0


if __name__ == "__main__":
    sys.exit(main())
