"""The bundled node under load: event delivery throughput, its memory, and /liveness latency.

    python benchmarks/node_events.py [--mib 50] [--subscribers 5] [--line-bytes 1024] [--image IMAGE]
                                     [--baseline-tree PATH] [--rounds N]

Runs `opspec node` as its own process (on a free port, a throw-away data dir) and prints:
  delivery     one container writes MIB MiB to stdout as lines of LINE-BYTES bytes (one event each, the
               data base64-encoded in the event JSON); SUBSCRIBERS WebSocket clients, connected before
               the start, each read every event up to the op's end. Throughput = MiB of container output
               per second of wall time from the start request to the last subscriber's opEnded, per
               subscriber and summed, beside `docker run` writing the same bytes to /dev/null.
  memory       the node's resident set (VmRSS sampled every 20 ms, and the kernel's VmHWM peak) while
               it does that; target: peak under 150 MB (the stream must never be buffered whole).
  liveness     GET /liveness from 50 concurrent clients (keep-alive), 40 requests each, on the idle node:
               p50/p99/max.
Subscribers run as separate processes, so the client side does not share one interpreter lock.
With --baseline-tree, the node of another checkout (e.g. a worktree of an older commit) is measured too, rounds
interleaved with this tree's (A B A B ...), and the median throughput per subscriber of both is compared (the
target: not lower than the baseline's).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_opspec.node.client import NodeClient  # noqa: E402
from pytest_opspec.events import format_timestamp  # noqa: E402

MIB = 1024 * 1024


def status_kib(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M)[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_node(data_dir: Path, image: str, tree: Path = ROOT) -> tuple[subprocess.Popen[str], str]:
    """`opspec node` of the source tree ``tree`` on a free port, with bench/writer:1 mapped to ``image``."""
    env = {**os.environ, "OPSPEC_IMAGE_MAP": f"bench/writer:1={image}", "PYTHONPATH": str(tree)}
    process = subprocess.Popen([sys.executable, "-m", "pytest_opspec.cli", "node", "--listen", "127.0.0.1:0",
                                "--data-dir", str(data_dir)], stderr=subprocess.PIPE, text=True, env=env, cwd=tree)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = lines.get(timeout=60)
        found = re.search(r"serving the node API on (http://\S+)", line)
        if found:
            return process, found[1]
    raise SystemExit("the node did not start")


def subscribe(url: str, ready: multiprocessing.Event, go: multiprocessing.Event, results: multiprocessing.Queue,
              root: multiprocessing.Array) -> None:
    """One subscriber: all live events until the root op's opEnded; reports (events, bytes, end time, CPU s)."""
    from websockets.sync.client import connect

    query = f"since={format_timestamp(time.time_ns())}"
    with connect(url.replace("http://", "ws://") + "/events/stream?" + query, compression=None,
                 max_size=None) as connection:
        ready.set()
        go.wait()
        events = size = 0
        while True:
            message = connection.recv(timeout=300)
            events += 1
            size += len(message)
            if '"opEnded"' in message:
                ended = json.loads(message)["opEnded"]
                if ended["opId"] == root.value.decode():
                    results.put((events, size, time.time(), time.process_time()))
                    return


def liveness_latencies(url: str, clients: int = 50, requests_each: int = 40) -> list[float]:
    """Latencies of GET /liveness from ``clients`` concurrent keep-alive connections (an asyncio client,
    light enough that the figures are the node's rather than the load generator's)."""
    import asyncio

    import aiohttp

    timings: list[float] = []

    async def one_client(session: aiohttp.ClientSession) -> None:
        for _ in range(requests_each):
            started = time.perf_counter()
            async with session.get(url + "/liveness") as response:
                await response.read()
                assert response.status == 200, response.status
            timings.append(time.perf_counter() - started)

    async def run() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await asyncio.gather(*(one_client(session) for _ in range(clients)))

    asyncio.run(run())
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def writer_package(root: Path, line_bytes: int, lines: int) -> tuple[Path, str]:
    """An op (image bench/writer:1) whose container writes ``lines`` lines of ``line_bytes`` bytes (newline
    included) to stdout, and its shell command."""
    writer = f'yes "$(head -c {line_bytes - 1} /dev/zero | tr "\\0" x)" | head -n {lines}'
    pkg = root / f"writer-{line_bytes}"
    pkg.mkdir(exist_ok=True)
    (pkg / "op.yml").write_text(textwrap.dedent(f"""\
        name: writer
        run:
          container:
            image: {{ ref: 'bench/writer:1' }}
            cmd: [sh, -c, {json.dumps(writer)}]
    """))
    return pkg, writer


@dataclass
class Delivery:
    ends: list[tuple[int, int, float, float]]  # per subscriber: events, bytes, end time, CPU seconds
    started_wall: float
    node_cpu: float
    idle_rss_kib: int
    peak_sampled_kib: int
    peak_kib: int
    outcome: str | None
    latencies: list[float]

    @property
    def durations(self) -> list[float]:
        return [end - self.started_wall for _, _, end, _ in self.ends]


def deliver(tree: Path, data_dir: Path, pkg: Path, image: str, subscribers: int) -> Delivery:
    """One op's output delivered by the node of ``tree`` to ``subscribers`` WebSocket clients, then /liveness."""
    process, url = start_node(data_dir, image, tree)
    samples: list[int] = []
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            try:
                samples.append(status_kib(process.pid, "VmRSS"))
            except (OSError, TypeError):
                return
            time.sleep(0.02)

    try:
        client = NodeClient(url)
        client.liveness()
        idle_rss = status_kib(process.pid, "VmRSS")
        context = multiprocessing.get_context("spawn")
        go, results, root_id = context.Event(), context.Queue(), context.Array("c", 64)
        readies = [context.Event() for _ in range(subscribers)]
        workers = [context.Process(target=subscribe, args=(url, ready, go, results, root_id)) for ready in readies]
        for worker in workers:
            worker.start()
        for ready in readies:
            if not ready.wait(60):
                raise SystemExit("a subscriber did not connect")
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started_wall = time.time()
        node_cpu_before = cpu_seconds(process.pid)
        op_id = client.start_op(str(pkg))
        root_id.value = op_id.encode()
        go.set()
        ends = [results.get(timeout=600) for _ in workers]
        for worker in workers:
            worker.join(30)
        node_cpu = cpu_seconds(process.pid) - node_cpu_before
        sampling.set()
        sampler.join()
        peak_kib = status_kib(process.pid, "VmHWM")
        events = client.wait_for_end(op_id, timeout=60)
        outcome = events[-1].outcome.value if events[-1].outcome else None
        latencies = liveness_latencies(url)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    return Delivery(ends, started_wall, node_cpu, idle_rss, max(samples), peak_kib, outcome, latencies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=50)
    parser.add_argument("--subscribers", type=int, default=5)
    parser.add_argument("--line-bytes", type=int, default=1024)
    parser.add_argument("--image", default="opspec-test/busybox:1")
    parser.add_argument("--baseline-tree", type=Path, help="also measure the node of this source tree")
    parser.add_argument("--rounds", type=int, default=1, help="runs per tree, interleaved (medians are compared)")
    options = parser.parse_args()
    lines = options.mib * MIB // options.line_bytes
    trees = {"this tree": ROOT}
    if options.baseline_tree:
        trees["baseline"] = options.baseline_tree.resolve()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["OPSPEC_OP_CACHE"] = str(root / "op-cache")  # its ops are temporary: so is their op cache
        pkg, writer = writer_package(root, options.line_bytes, lines)
        started = time.perf_counter()
        subprocess.run(["docker", "run", "--rm", options.image, "sh", "-c", writer], check=True,
                       stdout=subprocess.DEVNULL)
        docker_seconds = time.perf_counter() - started
        runs: dict[str, list[Delivery]] = {name: [] for name in trees}
        for round_number in range(options.rounds):
            for name, tree in trees.items():
                data_dir = root / f"data-{round_number}-{len(runs[name])}-{name.replace(' ', '-')}"
                runs[name].append(deliver(tree, data_dir, pkg, options.image, options.subscribers))

    data_mib = lines * options.line_bytes / MIB
    result = runs["this tree"][-1]
    durations = result.durations
    slowest = max(durations)
    ends = result.ends
    print(f"delivery: {data_mib:.0f} MiB of stdout in {lines} lines of {options.line_bytes} B "
          f"-> {ends[0][0]} events ({ends[0][1] / MIB:.0f} MiB of event JSON) per subscriber; op {result.outcome}")
    print(f"  per subscriber   {data_mib / statistics.mean(durations):7.1f} MiB/s "
          f"(mean of {len(durations)}; slowest {data_mib / slowest:.1f} MiB/s, {slowest:.2f} s)")
    print(f"  all subscribers  {data_mib * len(durations) / slowest:7.1f} MiB/s of output delivered, "
          f"{sum(size for _, size, _, _ in ends) / MIB / slowest:.1f} MiB/s of event JSON sent")
    print(f"  CPU seconds      node {result.node_cpu:.2f} s, subscribers {sum(cpu for *_, cpu in ends):.2f} s in "
          f"all, on {os.cpu_count()} cores")
    print(f"  docker run alone {data_mib / docker_seconds:7.1f} MiB/s to /dev/null ({docker_seconds:.2f} s); "
          f"node/docker time ratio {slowest / docker_seconds:.2f}x")
    print(f"memory: node RSS idle {result.idle_rss_kib / 1024:.0f} MB, peak sampled "
          f"{result.peak_sampled_kib / 1024:.0f} MB, VmHWM {result.peak_kib / 1024:.0f} MB (target < 150 MB)")
    latencies = result.latencies
    print(f"liveness: {len(latencies)} requests from 50 concurrent clients: "
          f"p50 {percentile(latencies, 0.5) * 1e3:.2f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1e3:.2f} ms, max {max(latencies) * 1e3:.2f} ms")
    throughput = {name: statistics.median(data_mib / statistics.mean(run.durations) for run in measured)
                  for name, measured in runs.items()}
    line = f"figure: delivery per subscriber ({options.subscribers}) {throughput['this tree']:7.1f} MiB/s"
    if "baseline" in throughput:
        ratio = throughput["this tree"] / throughput["baseline"]
        line += (f"  = {ratio:.2f}x the baseline's {throughput['baseline']:.1f} MiB/s (target >= 1.00x: "
                 f"{'met' if ratio >= 0.95 else 'NOT met'}, within 5% noise; medians of {options.rounds})")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
