"""Remote packages: resolving against plain `git clone`, from the cache, and under xdist, side by side.

    python benchmarks/remote_pkgs.py [--rounds N] [--warm N] [--files N]

Starts a local smart-HTTP git server (git http-backend) with a package repository of FILES files and
points https://github.com/ at it through a throw-away git config (url.<base>.insteadOf), then prints:
  cold resolve   resolving the ref into an empty cache (fetch the tag, check it out, digest, publish)
                 vs a plain `git clone` of the same repository; interleaved rounds (target <= 1.3x)
  warm resolve   resolving the same ref again from the cache, ms per ref (target < 5 ms)
  xdist          `pytest -n 2`: 20 tests each run an op calling one of 5 distinct remote refs, all
                 uncached at the start, sharing one cache; clones performed (target 5)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pytest_opspec.pkgs.resolve import PackageResolver, PkgOptions  # noqa: E402
from tests.support.gitserver import ECHO_OP, GitServer  # noqa: E402

BENCH_REPO = "github.com/bench/package"


def build_repo(server: GitServer, files: int) -> None:
    content = {"op.yml": ECHO_OP}
    for index in range(files):
        content[f"lib/part{index:03}.txt"] = f"line {index}\n" * 40
    server.repo(BENCH_REPO, content, {"1.0.0": True})


def cold_resolve(scratch: Path) -> float:
    started = time.perf_counter()
    PackageResolver(PkgOptions(cache_dir=scratch / "cache")).resolve(f"{BENCH_REPO}#1.0.0")
    return time.perf_counter() - started


def plain_clone(scratch: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["git", "clone", "-q", f"https://{BENCH_REPO}", str(scratch / "clone")], check=True)
    return time.perf_counter() - started


def xdist_clones(server: GitServer, workdir: Path, env: dict[str, str]) -> tuple[int, float]:
    refs = []
    for index in range(5):
        name = f"github.com/bench/dep{index}"
        server.repo(name, {"op.yml": ECHO_OP}, {"1.0.0": False})
        refs.append(f"{name}#1.0.0")
    tests = workdir / "test_calls.py"
    tests.write_text(textwrap.dedent(f"""\
        import pytest
        REFS = {refs!r}

        @pytest.mark.parametrize("index", range(20))
        def test_call(op_runner, index):
            assert op_runner.run(REFS[index % 5]).succeeded
        """))
    before = sum(server.fetches.values())
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", str(tests),
                    "--opspec-image-map", "alpine=" + os.environ.get("OPSPEC_TEST_IMAGE", "opspec-test/busybox:1"),
                    "--opspec-pkg-cache", str(workdir / "cache")], cwd=workdir, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return sum(server.fetches.values()) - before, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warm", type=int, default=2000)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--skip-xdist", action="store_true", help="skip the part that needs the Docker engine")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opspec-bench-") as tmp:
        root = Path(tmp)
        os.environ["OPSPEC_OP_CACHE"] = str(root / "op-cache")  # its ops are temporary: so is their op cache
        server = GitServer(root / "repos")
        try:
            build_repo(server, options.files)
            config = server.write_client_config(root / "gitconfig")
            os.environ.update(server.client_env(config))
            cold, clone = [], []
            for round_index in range(options.rounds):
                for measure, samples in ((cold_resolve, cold), (plain_clone, clone)):
                    scratch = root / f"round-{round_index}-{measure.__name__}"
                    scratch.mkdir()
                    samples.append(measure(scratch))
                    shutil.rmtree(scratch, ignore_errors=True)  # the cache may still be deleting its scratch
            cold_ms, clone_ms = statistics.median(cold) * 1000, statistics.median(clone) * 1000
            print(f"cold resolve  {cold_ms:8.1f} ms   git clone {clone_ms:8.1f} ms   ratio {cold_ms / clone_ms:.2f}x "
                  f"(target <= 1.3x; median of {options.rounds}, {options.files + 1} files)")
            resolver = PackageResolver(PkgOptions(cache_dir=root / "warm-cache"))
            resolver.resolve(f"{BENCH_REPO}#1.0.0")
            started = time.perf_counter()
            for _ in range(options.warm):
                resolver.resolve(f"{BENCH_REPO}#1.0.0")
            warm_ms = (time.perf_counter() - started) * 1000 / options.warm
            print(f"warm resolve  {warm_ms:8.3f} ms per ref (target < 5 ms; {options.warm} resolutions)")
            if not options.skip_xdist:
                workdir = root / "xdist"
                workdir.mkdir()
                clones, seconds = xdist_clones(server, workdir, dict(os.environ))
                print(f"xdist         {clones} clones for 20 op calls of 5 refs under -n 2 (target 5; {seconds:.1f} s)")
        finally:
            server.close()


if __name__ == "__main__":
    main()
