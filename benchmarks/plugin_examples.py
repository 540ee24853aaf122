"""Wall time of `pytest --opspec examples/` at -n 0 and -n 2, and the plugin's per-scenario overhead.

    python benchmarks/plugin_examples.py [--rounds N]

1. Runs `pytest -p no:cacheprovider --opspec examples/` from the repository root (so the examples' image map
   in pyproject.toml applies), N times without xdist and N times with `-n 2`, interleaved so that drift of the
   machine hits both alike, and prints the median wall time of each (interpreter start-up, collection, the
   engine connection and the session's clean-up included).
2. Per-scenario overhead: for each `call` scenario of the examples, the time pytest reports for the item
   (setup, call and teardown, from --junit-xml, medians over the -n 0 rounds) minus the median time of the same
   op with the same args run bare on an in-process executor that is already connected (OpRunner.run; the
   engine finishes removing the previous run's containers before each timed run). The first call item of a
   session also pays for connecting the engine and the start-up sweep; it is shown apart.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_opspec.backends.runtime import make_runtime  # noqa: E402
from pytest_opspec.executor.executor import Executor  # noqa: E402
from pytest_opspec.executor.runner import OpRunner  # noqa: E402
from pytest_opspec.model import load_op  # noqa: E402
from pytest_opspec.pkgs.discover import find_packages  # noqa: E402
from pytest_opspec.options import IMAGE_MAP, resolve  # noqa: E402
from pytest_opspec.model.scenarios import Kind, find_scenario_file, load_scenarios, scenario_ids, scope_args  # noqa: E402


def run_pytest(extra: list[str], junit: Path | None = None) -> float:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--opspec", "examples/", "-q", *extra]
    if junit is not None:
        command.append(f"--junit-xml={junit}")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pytest --opspec examples/ failed:\n{done.stdout}")
    return elapsed


def item_times(junit: Path) -> dict[str, float]:
    """Test id (``hello::call[greets someone]``) -> seconds, for the call scenarios in a JUnit report."""
    times = {}
    for case in ET.parse(junit).iter("testcase"):
        name = case.get("name", "")
        if name.startswith("call["):
            package = case.get("classname", "").rsplit(".", 1)[-1]
            times[f"{package}::{name}"] = float(case.get("time", "0"))
    return times


def first_call(junit: Path) -> str | None:
    return next(iter(item_times(junit)), None)


def bare_runs(rounds: int) -> dict[str, float]:
    """Median bare run time of each call scenario's op with its args, on a connected executor."""
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    image_map = dict(resolve(IMAGE_MAP, ini=ini.get("opspec_image_map", []))[0])
    samples: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp, Executor(make_runtime(image_map=image_map), data_dir=Path(tmp),
                                                           close_runtime=True) as executor:
        runner = OpRunner(executor)
        jobs = []
        for package in find_packages([ROOT / "examples"]):
            file = find_scenario_file(package)
            scenarios = load_scenarios(file) if file else []
            for scenario, test_id in zip(scenarios, scenario_ids(scenarios), strict=True):
                if scenario.kind is Kind.CALL and scenario.skip is None:
                    args = scope_args(scenario, load_op(package).inputs)
                    jobs.append((f"{package.name}::{test_id}", package, args))
        runner.run(jobs[0][1], jobs[0][2], timeout=120)  # warm up: connection, image, page cache
        for _ in range(rounds):
            for test_id, package, args in jobs:
                started = time.perf_counter()
                result = runner.run(package, args, timeout=120)
                samples[test_id].append(time.perf_counter() - started)
                executor.release(result.op_id)
                executor.runtime.wait_for_removals()  # each timed run starts on an idle engine
    return {test_id: statistics.median(values) for test_id, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()

    walls: dict[str, list[float]] = {"-n 0": [], "-n 2": []}
    per_item: dict[str, list[float]] = defaultdict(list)
    firsts: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_number in range(options.rounds):
            junit = Path(tmp) / f"round{round_number}.xml"
            walls["-n 0"].append(run_pytest([], junit))
            walls["-n 2"].append(run_pytest(["-n", "2"]))
            for test_id, seconds in item_times(junit).items():
                per_item[test_id].append(seconds)
            firsts.append(first_call(junit) or "")
    bare = bare_runs(options.rounds)

    print(f"pytest --opspec examples/  ({options.rounds} rounds, median wall time)")
    for mode, values in walls.items():
        print(f"  {mode}: {statistics.median(values):6.2f} s   (min {min(values):.2f}, max {max(values):.2f})")
    print()
    print("per call scenario: pytest item time vs the same op run bare on a connected executor (medians)")
    print(f"  {'scenario':<58} {'item':>7} {'bare':>7} {'overhead':>9}")
    first = statistics.mode(firsts)
    overheads = []
    for test_id in sorted(per_item):
        item, run = statistics.median(per_item[test_id]), bare.get(test_id)
        if run is None:
            continue
        note = "  (first call: connects the engine)" if test_id == first else ""
        print(f"  {test_id:<58} {item * 1000:6.0f}ms {run * 1000:6.0f}ms {(item - run) * 1000:+8.0f}ms{note}")
        if test_id != first:
            overheads.append(item - run)
    if overheads:
        print(f"  mean overhead per scenario (first call excluded): {statistics.mean(overheads) * 1000:+.0f} ms; "
              f"median {statistics.median(overheads) * 1000:+.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
