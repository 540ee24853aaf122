"""The node's event store on disk: bytes stored per byte of container output.

    python benchmarks/event_store.py [--mib 8] [--short-mib 1] [--baseline-tree PATH] [--image IMAGE]

Runs `opspec node` as its own process (free port, throw-away data dir), starts one op whose container writes
MIB MiB to stdout as 80-byte lines (then, in a fresh data dir, SHORT-MIB MiB as 9-byte lines), waits for its
opEnded, stops the node (which stores the last events) and divides the size of the store's files (database
and write-ahead log) by the bytes of output. Targets: <= 2.5 bytes per byte for 80-byte lines, <= 8 for
9-byte lines. With --baseline-tree, the same runs also go to the node of another checkout (e.g. a worktree of
an older commit), so both are measured on the same machine at the same time.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from node_events import start_node, writer_package  # noqa: E402  (the script beside this one)
from pytest_opspec.node.client import NodeClient  # noqa: E402

MIB = 1024 * 1024


def store_bytes(tree: Path, image: str, pkg: Path, data_dir: Path) -> int:
    process, url = start_node(data_dir, image, tree)
    try:
        client = NodeClient(url)
        op_id = client.start_op(str(pkg))
        events = client.wait_for_end(op_id, timeout=600)
        if not events or events[-1].outcome is None or events[-1].outcome.value != "SUCCEEDED":
            raise SystemExit(f"the writer op did not succeed on the node of {tree}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(120)
    return sum(path.stat().st_size for path in data_dir.glob("events.db*") if not path.name.endswith("-shm"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=float, default=8, help="MiB of output written as 80-byte lines")
    parser.add_argument("--short-mib", type=float, default=1, help="MiB of output written as 9-byte lines")
    parser.add_argument("--baseline-tree", type=Path, help="also measure the node of this source tree")
    parser.add_argument("--image", default="opspec-test/busybox:1")
    options = parser.parse_args()
    trees = {"this tree": ROOT}
    if options.baseline_tree:
        trees["baseline"] = options.baseline_tree.resolve()
    cases = [(80, int(options.mib * MIB), 2.5), (9, int(options.short_mib * MIB), 8.0)]

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["OPSPEC_OP_CACHE"] = str(work / "op-cache")  # its ops are temporary: so is their op cache
        for line_bytes, total, target in cases:
            output = total // line_bytes * line_bytes
            pkg, _ = writer_package(work, line_bytes, total // line_bytes)
            for name, tree in trees.items():
                data_dir = work / f"data-{line_bytes}-{len(name)}"
                size = store_bytes(tree, options.image, pkg, data_dir)
                ratio = size / output
                line = (f"{line_bytes}-byte lines ({name}): {output / MIB:.1f} MiB of output -> "
                        f"{size / MIB:.1f} MiB stored")
                if name == "this tree":
                    verdict = "met" if ratio <= target else "NOT met"
                    print(f"figure: store, {line_bytes:2d}-byte lines {'':17s} {ratio:5.2f} bytes/byte  "
                          f"(target <= {target:.1f}: {verdict})  [{line}]")
                else:
                    print(f"        baseline, {line_bytes:2d}-byte lines {'':14s} {ratio:5.2f} bytes/byte  [{line}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
