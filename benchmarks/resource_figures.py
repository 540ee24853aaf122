"""What measuring resource figures costs: a one-container op with and without them, side by side in one run.

    python benchmarks/resource_figures.py [--rounds N] [--image IMAGE]

Each container's peak memory and cpu time come from a parent cgroup of its own (runtime/cgroups.py): the
engine creates one more cgroup level, and after the exit two small files are read and the parent removed
(off the critical path). Exit reasons cost an inspect only for containers that failed, so a succeeding
op pays nothing for them. Two executors on the same engine, one measuring and one not, run the same op in
interleaved rounds (A B A B ...) so drift of the machine hits both alike. Target: under 5% overhead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_opspec.executor.executor import Executor  # noqa: E402

from pytest_opspec.executor.runner import OpRunner  # noqa: E402
from pytest_opspec.runtime.docker import DockerRuntime  # noqa: E402

TARGET = 1.05


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--image", default="opspec-test/busybox:1")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["OPSPEC_OP_CACHE"] = str(Path(tmp) / "op-cache")  # its op is temporary: so is its op cache
        pkg = Path(tmp) / "one"
        pkg.mkdir()
        (pkg / "op.yml").write_text(f"name: one\nrun: {{ container: {{ image: {{ ref: '{options.image}' }}, "
                                    "cmd: ['true'] } }\n")
        runners = {}
        executors = []
        for name, measure in (("without figures", False), ("with figures", True)):
            executor = Executor(DockerRuntime(resource_figures=measure), data_dir=Path(tmp) / name)
            executors.append(executor)
            runners[name] = OpRunner(executor)
        samples: dict[str, list[float]] = {name: [] for name in runners}
        try:
            for round_ in range(options.rounds + 1):  # the first round warms up connections and caches
                for name, runner in runners.items():
                    started = time.perf_counter()
                    result = runner.run(pkg)
                    elapsed = time.perf_counter() - started
                    if not result.succeeded:
                        raise SystemExit(f"benchmark op failed:\n{result.summary()}")
                    if round_:
                        samples[name].append(elapsed)
            measured = result.containers[0]
        finally:
            for executor in executors:
                executor.close()
                executor.runtime.close()

    print(f"{'one-container op':<20}{'mean s':>9}{'median s':>10}{'stdev':>8}")
    for name, values in samples.items():
        print(f"{name:<20}{statistics.mean(values):>9.3f}{statistics.median(values):>10.3f}"
              f"{statistics.stdev(values):>8.3f}")
    ratio = statistics.mean(samples["with figures"]) / statistics.mean(samples["without figures"])
    verdict = "ok" if ratio <= TARGET else f"OVER target {TARGET:.2f}x"
    print(f"overhead of figures: {ratio:.3f}x (target <= {TARGET:.2f}x) {verdict}")
    print(f"last measured container: {measured.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
