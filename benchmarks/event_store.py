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
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import queue
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_opspec.client import NodeClient  # noqa: E402

MIB = 1024 * 1024


def start_node(data_dir: Path, image: str, tree: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """`opspec node` from the source tree ``tree`` on a free port; its URL once it serves."""
    env = {**os.environ, "OPSPEC_IMAGE_MAP": f"bench/writer:1={image}", "PYTHONPATH": str(tree)}
    process = subprocess.Popen([sys.executable, "-m", "pytest_opspec.cli", "node", "--listen", "127.0.0.1:0",
                                "--data-dir", str(data_dir), *extra], stderr=subprocess.PIPE, text=True, env=env,
                               cwd=tree)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = lines.get(timeout=60)
        found = re.search(r"serving the node API on (http://\S+)", line)
        if found:
            return process, found[1]
    process.kill()
    raise SystemExit("the node did not start")


def writer_package(root: Path, line_bytes: int, total_bytes: int) -> Path:
    """An op whose container writes ``total_bytes`` as lines of ``line_bytes`` bytes (newline included)."""
    lines = total_bytes // line_bytes
    script = f'yes "$(head -c {line_bytes - 1} /dev/zero | tr "\\0" x)" | head -n {lines}'
    pkg = root / f"writer-{line_bytes}"
    pkg.mkdir(exist_ok=True)
    (pkg / "op.yml").write_text(textwrap.dedent(f"""\
        name: writer
        run:
          container:
            image: {{ ref: 'bench/writer:1' }}
            cmd: [sh, -c, {json.dumps(script)}]
    """))
    return pkg


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
        for line_bytes, total, target in cases:
            output = total // line_bytes * line_bytes
            pkg = writer_package(work, line_bytes, total)
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
