"""Every performance figure with its target, in one command.

    python benchmarks/run_all.py [--quick]

Runs, one after the other (each measures its own figures side by side with its baseline):
  startup.py            `opspec run` vs `docker run --rm`; pytest with the plugin unused vs `-p no:opspec`;
                        `pytest --opspec` on one package vs a plain pytest start-up
  executor_overhead.py  in-process executor: one container, serial of 5, parallel of 5 vs the docker-run floor
  event_store.py        bytes stored per byte of output, 80-byte and 9-byte lines
  node_events.py        event delivery to 5 WebSocket subscribers (throughput per subscriber)
then prints the lines that carry a figure again, together. --quick uses fewer rounds and less data (for a
smoke test of the scripts; the figures are noisier).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    runs = [
        ["startup.py", "--rounds", "3" if options.quick else "15"],
        ["executor_overhead.py", "--rounds", "3" if options.quick else "10"],
        ["event_store.py", *(["--mib", "1", "--short-mib", "0.25"] if options.quick else [])],
        ["node_events.py", *(["--mib", "5"] if options.quick else [])],
    ]
    collected: list[str] = []
    for script, *args in runs:
        print(f"== {script} {' '.join(args)}", flush=True)
        done = subprocess.run([sys.executable, str(HERE / script), *args], stdout=subprocess.PIPE, text=True)
        print(done.stdout, end="", flush=True)
        if done.returncode != 0:
            collected.append(f"{script}: FAILED (exit {done.returncode})")
        collected += [line for line in done.stdout.splitlines() if line.startswith("figure:")]
    print("\n== all figures")
    print("\n".join(collected))
    return 0 if not any("FAILED" in line for line in collected) else 1


if __name__ == "__main__":
    sys.exit(main())
