"""Executor overhead against plain `docker run`, measured side by side in one run.

    python benchmarks/executor_overhead.py [--rounds N] [--image IMAGE]

Prints, per scenario, the median wall time and its ratio to the matching docker-run baseline:
  one container    vs  `docker run --rm IMAGE true`                 (target <= 1.10x)
  serial of 5      vs  5 x `docker run --rm IMAGE true`, in a row    (target <= 1.10x)
  parallel of 5    vs  5 x `docker run --rm IMAGE true`, in a row    (target <= 0.75x)
  (for scale)          5 x `docker run --rm IMAGE true`, all at once (the engine's own floor)
Rounds are interleaved (A B A B ...) so drift of the machine hits every scenario alike. The executor runs
in-process (one Executor, as in a pytest session or a node); Python start-up is not counted for it, and
not for docker run either beyond its own CLI start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_opspec.backends.runtime import make_runtime  # noqa: E402
from pytest_opspec.executor.executor import Executor  # noqa: E402
from pytest_opspec.executor.runner import OpRunner  # noqa: E402

CONTAINER = "{ container: { image: { ref: '%s' }, cmd: ['true'] } }"


def write_op(root: Path, name: str, run: str) -> Path:
    pkg = root / name
    pkg.mkdir()
    (pkg / "op.yml").write_text(textwrap.dedent(f"name: {name}\nrun: {run}\n"))
    return pkg


def docker_run(image: str) -> None:
    subprocess.run(["docker", "run", "--rm", image, "true"], check=True, stdout=subprocess.DEVNULL)


def timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--image", default="opspec-test/busybox:1")
    options = parser.parse_args()
    image = options.image

    with tempfile.TemporaryDirectory() as tmp, Executor(make_runtime(), data_dir=Path(tmp) / "data",
                                                           close_runtime=True) as executor:
        root = Path(tmp)
        os.environ["OPSPEC_OP_CACHE"] = str(root / "op-cache")  # its ops are temporary: so is their op cache
        one = write_op(root, "one", CONTAINER % image)
        serial = write_op(root, "serial5", "{ serial: [%s] }" % ", ".join([CONTAINER % image] * 5))
        parallel = write_op(root, "parallel5", "{ parallel: [%s] }" % ", ".join([CONTAINER % image] * 5))
        runner = OpRunner(executor)

        def run(pkg: Path) -> Callable[[], None]:
            def action() -> None:
                result = runner.run(pkg)
                if not result.succeeded:
                    raise SystemExit(f"benchmark op failed:\n{result.summary()}")
            return action

        def five_at_once() -> None:
            with ThreadPoolExecutor(5) as pool:
                list(pool.map(lambda _: docker_run(image), range(5)))

        scenarios: dict[str, Callable[[], None]] = {
            "docker run x1": lambda: docker_run(image),
            "op: one container": run(one),
            "docker run x5 in a row": lambda: [docker_run(image) for _ in range(5)],
            "op: serial of 5": run(serial),
            "op: parallel of 5": run(parallel),
            "docker run x5 at once": five_at_once,
        }
        for action in scenarios.values():  # warm up: images, connections, caches
            action()
        samples: dict[str, list[float]] = {name: [] for name in scenarios}
        for _ in range(options.rounds):
            for name, action in scenarios.items():
                samples[name].append(timed(action))

    median = {name: statistics.median(values) for name, values in samples.items()}
    print(f"{'scenario':<26}{'median s':>9}{'stdev':>8}   ratio")
    # name: (baseline, target, the figure measured when the executor landed)
    baselines = {
        "op: one container": ("docker run x1", 1.10, 0.96),
        "op: serial of 5": ("docker run x5 in a row", 1.10, 0.97),
        "op: parallel of 5": ("docker run x5 in a row", 0.75, 0.64),
        "docker run x5 at once": ("docker run x5 in a row", None, None),
    }
    figures = []
    for name, values in samples.items():
        line = f"{name:<26}{median[name]:>9.3f}{statistics.stdev(values) if len(values) > 1 else 0:>8.3f}"
        if name in baselines:
            base, target, earlier = baselines[name]
            ratio = median[name] / median[base]
            line += f"   {ratio:.2f}x of '{base}'"
            if target is None:
                line += " (engine floor)"
            else:
                verdict = "met" if ratio <= target else "NOT met"
                figures.append(f"figure: executor, {name[4:]:<25} {ratio:5.2f}x  (target <= {target:.2f}x: {verdict}; "
                               f"{earlier:.2f}x before)  of {base}")
        print(line)
    print("\n".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
