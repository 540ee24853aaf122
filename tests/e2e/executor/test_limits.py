"""Limits, exit reasons and resource figures on the real engine."""

from __future__ import annotations

import time

import docker
import pytest

from pytest_opspec.events import EventType, Outcome
from pytest_opspec.executor.executor import Executor
from pytest_opspec.executor.runner import OpRunner
from pytest_opspec.limits import Limits, Network

MiB = 1024 * 1024

# One process that touches 200 MiB at once: dd's buffer.
HOG = """
    name: hog
    run:
      container:
        image: { ref: 'alpine:3.19' }
        cmd: [dd, if=/dev/zero, of=/dev/null, bs=200M, count=1]
"""


def _container_started(running, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in running.events:
            if event.type is EventType.CONTAINER_STDOUT_WRITTEN_TO and event.pkg_ref and b"ready" in event.data:
                return event.container_id
        time.sleep(0.05)
    raise AssertionError("the op never said it was ready")


def test_an_op_touching_200_mib_dies_of_oom_under_64m_and_succeeds_without(runner: OpRunner, make_op) -> None:
    pkg = make_op("hog", HOG)
    limited = runner.run(pkg, limits={"memory": "64m"})
    assert limited.outcome is Outcome.FAILED
    container = limited.containers[0]
    assert (container.exit_reason, container.exit_code) == ("oom", 137)
    assert 32 * MiB < container.peak_memory_bytes <= 65 * MiB  # the limit, give or take a few pages
    assert "Exit code was: 137; out of memory (limit 64 MiB)" in limited.error
    assert "exit code 137, out of memory (limit 64 MiB); peak" in limited.summary()

    free = runner.run(pkg)
    assert free.succeeded, free.summary()
    assert (free.containers[0].exit_reason, free.containers[0].exit_code) == ("exited", 0)
    assert free.containers[0].peak_memory_bytes >= 200 * MiB


NETWORKED = """
    name: pair
    run:
      parallel:
        - container:
            image: { ref: 'alpine:3.19' }
            name: server
            cmd: [sh, -c, 'echo hi > /tmp/index.html; httpd -f -p 8080 -h /tmp & sleep 4']
        - container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'for i in $(seq 30); do wget -q -O- http://server:8080/ && exit 0; sleep 0.1; done; exit 3']
"""


def test_containers_reach_each_other_by_name_on_the_ops_network_and_not_without_one(
        runner: OpRunner, make_op) -> None:
    pkg = make_op("pair", NETWORKED)
    joined = runner.run(pkg, limits={"network": "op"})
    assert joined.succeeded, joined.summary()
    assert b"hi\n" in b"".join(c.stdout for c in joined.containers)  # parallel: either may start first

    isolated = runner.run(pkg, limits=Limits(network=Network.NONE))
    assert isolated.outcome is Outcome.FAILED
    assert ("exited", 3) in [(c.exit_reason, c.exit_code) for c in isolated.containers], isolated.summary()


def test_no_network_means_only_loopback(runner: OpRunner, make_op) -> None:
    pkg = make_op("ifaces", """
        name: ifaces
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [ls, /sys/class/net] } }
    """)
    result = runner.run(pkg, limits={"network": "none"})
    assert result.succeeded, result.summary()
    assert result.containers[0].stdout.split() == [b"lo"]


def test_cpu_and_pids_limits_reach_the_container(runner: OpRunner, make_op) -> None:
    pkg = make_op("cgroup", """
        name: cgroup
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max; for i in 1 2 3 4 5 6; do sleep 1 & done; wait']
    """)
    result = runner.run(pkg, limits={"cpus": 0.5, "pids": 4})
    assert result.containers[0].stdout.split()[:2] == [b"50000", b"4"]
    assert b"can't fork" in result.containers[0].stderr


def test_figures_agree_with_the_engines_own_stats(runner: OpRunner, make_op) -> None:
    # Busy for a while, holding 64 MiB, then idle: the engine's stats taken while it idles are its totals.
    pkg = make_op("busy", """
        name: busy
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done; dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo ready; sleep 3']
    """)
    running = runner.start(pkg)
    container_id = _container_started(running)
    api = docker.APIClient(version="auto")
    try:
        stats = api.stats(container_id, stream=False, one_shot=True)
    finally:
        api.close()
    engine_cpu = stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9
    engine_peak = stats["memory_stats"]["max_usage"]
    result = running.wait(60)
    assert result.succeeded, result.summary()
    container = result.containers[0]
    assert container.cpu_seconds == pytest.approx(engine_cpu, rel=0.2)
    assert container.peak_memory_bytes == pytest.approx(engine_peak, rel=0.2)
    assert container.peak_memory_bytes > 64 * MiB
    assert 3 <= container.duration_seconds < 30


def test_a_timed_out_op_reports_timeout_and_a_killed_one_killed(runner: OpRunner, make_op) -> None:
    pkg = make_op("sleeper", """
        name: sleeper
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo ready; sleep 60'] } }
    """)
    timed_out = runner.run(pkg, timeout=1)
    assert timed_out.timed_out and timed_out.outcome is Outcome.KILLED
    assert timed_out.containers[0].exit_reason == "timeout"

    running = runner.start(pkg)
    _container_started(running)
    killed = running.kill()
    assert killed.outcome is Outcome.KILLED
    container = killed.containers[0]
    assert container.exit_reason == "killed"
    assert container.duration_seconds is not None and container.cpu_seconds is not None


def test_an_image_that_cannot_be_had_is_not_started_with_the_engines_message(runner: OpRunner, make_op) -> None:
    pkg = make_op("missing", """
        name: missing
        run: { container: { image: { ref: '127.0.0.1:9/nothing/here:1' } } }
    """)
    result = runner.run(pkg)
    assert result.outcome is Outcome.FAILED
    container = result.containers[0]
    assert (container.exit_reason, container.exit_code) == ("not-started", None)
    assert "127.0.0.1:9" in container.describe() and "connection refused" in container.describe()
    assert container.peak_memory_bytes is None


def test_executor_defaults_apply_under_a_runs_own_limits(executor: Executor, make_op) -> None:
    pkg = make_op("hog", HOG)
    executor_with_defaults = Executor(runtime=executor.runtime, data_dir=executor.data_dir / "defaults",
                                      owner=executor.owner + "-defaults", default_limits=Limits(memory_bytes=64 * MiB))
    try:
        runner = OpRunner(executor_with_defaults, timeout=60)
        assert runner.run(pkg).containers[0].exit_reason == "oom"
        assert runner.run(pkg, limits={"memory": "512m"}).succeeded
    finally:
        executor_with_defaults.close()


def test_a_container_that_dies_of_a_signal_says_which(runner: OpRunner, make_op) -> None:
    # The kernel shields PID 1 from such signals, so a child dies of it; its 128 + 11 becomes the exit code.
    pkg = make_op("segv", """
        name: segv
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'sh -c "kill -SEGV \\$\\$"; exit $?'] } }
    """)
    result = runner.run(pkg)
    container = result.containers[0]
    assert (container.exit_reason, container.exit_code) == ("signal", 139)
    assert result.error == "nonzero container exit code. Exit code was: 139; ended by SIGSEGV"
