"""Sessions never harm each other, and a killed session cleans up after itself (leases and reapers,
runtime/lease.py): SIGKILL of a session's whole process group leaves nothing behind; sessions in
different PID namespaces on one engine do not touch each other's running containers; what a dead
owner left is swept only when its lease provably has no holder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable

import docker
import pytest

from pytest_opspec.runtime.base import LABEL_OWNER
from pytest_opspec.runtime.docker import DockerRuntime
from pytest_opspec.runtime.lease import LABEL_LEASE, LABEL_LEASE_LOCK, default_root, lock_free, remove_dead_scratch

from tests.support import TEST_IMAGE, labelled

from .test_plugin_runs import INI, SESSION_LABEL, write

PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly"]


def wait_until(condition: Callable[[], bool], timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def containers_running(token: str) -> list[dict]:
    """The engine's running containers whose command carries ``token`` (each test op's command does)."""
    engine = docker.APIClient(version="auto")
    try:
        return [c for c in engine.containers(filters={"label": LABEL_OWNER}) if token in c.get("Command", "")]
    finally:
        engine.close()


def sleeper(project: Path, name: str, seconds: int) -> str:
    """A package whose container sleeps; returns the token its command carries."""
    token = f"{name}-{uuid.uuid4().hex[:8]}"
    write(project, f"ops/{name}/op.yml", f"""
        name: {name}
        run:
          container:
            image: {{ ref: 'alpine:3.19' }}
            cmd: [sh, -c, 'sleep {seconds}; echo {token}']
            name: {name}
    """)
    write(project, f"ops/{name}/scenarios.yml", "- call: { expect: success, timeout: 120 }\n")
    return token


def test_sigkill_of_a_sessions_process_group_leaves_nothing_behind(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    token = sleeper(pytester.path, "slow", 60)
    log = pytester.path / "session.log"
    with open(log, "wb") as output:
        # A process group of its own, as a CI job's; the kill takes the whole group.
        process = subprocess.Popen([*PYTEST, "--opspec", "ops"], cwd=pytester.path, stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=output, start_new_session=True)
    try:
        wait_until(lambda: containers_running(token), 120, "the op's container did not start")
        session = SESSION_LABEL.search(log.read_text()).group(1)
        container = containers_running(token)[0]
        lease = container["Labels"][LABEL_LEASE]
        lock = Path(container["Labels"][LABEL_LEASE_LOCK])
        scratch = lock.with_suffix("")
        assert scratch.is_dir() and lock.is_file() and scratch.name == lease
        assert labelled({LABEL_OWNER: session})[1], "the op has a network (its container has a name)"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    wait_until(lambda: labelled({LABEL_OWNER: session}) == ([], []), 30,
               "the killed session's containers or networks are still there 30 s later")
    wait_until(lambda: not scratch.exists() and not lock.exists(), 5, "the killed session's scratch dir is left")


def in_new_pid_namespace(command: list[str]) -> list[str]:
    return ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", *command]


def test_sessions_in_different_pid_namespaces_do_not_touch_each_others_containers(pytester: pytest.Pytester) -> None:
    if subprocess.run(in_new_pid_namespace(["true"]), capture_output=True).returncode != 0:
        pytest.skip("needs `unshare --pid --fork --mount-proc` (root or user namespaces)")
    pytester.makeini(INI)
    inner_token = sleeper(pytester.path, "inner", 6)
    outer_token = sleeper(pytester.path, "outer", 6)
    sleeper(pytester.path, "quick", 0)
    sessions: list[subprocess.Popen[bytes]] = []

    def session(command: list[str], name: str) -> subprocess.Popen[bytes]:
        log = open(pytester.path / f"{name}.log", "wb")
        process = subprocess.Popen(command, cwd=pytester.path, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        sessions.append(process)
        return process

    try:
        # Each session sweeps what dead sessions left at its first engine connection: the outer one
        # while the inner one's container runs, then another inner one while the outer one's runs.
        inner = session(in_new_pid_namespace([*PYTEST, "--opspec", "ops/inner"]), "inner")
        wait_until(lambda: containers_running(inner_token), 120, "the inner session's container did not start")
        outer = session([*PYTEST, "--opspec", "ops/outer"], "outer")
        wait_until(lambda: containers_running(outer_token), 120, "the outer session's container did not start")
        quick = session(in_new_pid_namespace([*PYTEST, "--opspec", "ops/quick"]), "quick")
        for process, name in ((quick, "quick"), (inner, "inner"), (outer, "outer")):
            assert process.wait(120) == 0, (pytester.path / f"{name}.log").read_text()
    finally:
        for process in sessions:
            if process.poll() is None:
                process.kill()
                process.wait()
    for name in ("inner", "outer", "quick"):
        owner = SESSION_LABEL.search((pytester.path / f"{name}.log").read_text()).group(1)
        assert labelled({LABEL_OWNER: owner}) == ([], [])


def leftovers(tmp_path: Path, *, holder_alive: bool) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """A process that takes a lease (without a reaper) and prints its labels; it exits at once or keeps
    running (in a PID namespace of its own, so its pid is nothing the sweeper could see)."""
    script = ("import json, sys, time\nfrom pytest_opspec.runtime.lease import Lease\n"
              "lease = Lease.acquire('test-leftovers', reaper=False)\n"
              "print(json.dumps(lease.labels), flush=True)\n"
              f"time.sleep({120 if holder_alive else 0})\n")
    command = [sys.executable, "-c", script]
    if holder_alive:
        command = in_new_pid_namespace(command)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    labels = json.loads(process.stdout.readline())
    if not holder_alive:
        process.wait(10)
    return process, labels


def test_the_start_up_sweep_removes_only_what_provably_dead_owners_left(tmp_path: Path) -> None:
    if subprocess.run(in_new_pid_namespace(["true"]), capture_output=True).returncode != 0:
        pytest.skip("needs `unshare --pid --fork --mount-proc` (root or user namespaces)")
    dead_process, dead = leftovers(tmp_path, holder_alive=False)
    live_process, live = leftovers(tmp_path, holder_alive=True)
    engine = docker.APIClient(version="auto")
    runtime = DockerRuntime()
    try:
        for labels in (dead, live):
            created = engine.create_container(TEST_IMAGE, command=["sleep", "60"], labels=labels)
            engine.start(created["Id"])
            runtime.create_network(f"opspec-{labels[LABEL_LEASE]}", labels)
        # (Another session's start-up sweep may get to the dead lease first: that is what it is for.)
        scratch = default_root() / dead[LABEL_LEASE]
        runtime.sweep_stale()
        assert labelled({LABEL_LEASE: dead[LABEL_LEASE]}) == ([], [])
        assert [len(found) for found in labelled({LABEL_LEASE: live[LABEL_LEASE]})] == [1, 1]
        remove_dead_scratch()
        assert not scratch.exists() and (default_root() / live[LABEL_LEASE]).is_dir()
    finally:
        live_process.kill()
        live_process.wait()
        runtime.sweep({LABEL_LEASE: dead[LABEL_LEASE]})
        runtime.sweep({LABEL_LEASE: live[LABEL_LEASE]})
        runtime.close()
        engine.close()
    # Its holder gone (the kill reaches the namespace's process a moment later), the lease is provably
    # dead too (another session's sweep may even have removed it already).
    lock = Path(live[LABEL_LEASE_LOCK])
    wait_until(lambda: lock_free(lock, live[LABEL_LEASE]) or not lock.exists(), 10, "the lease is still held")
    remove_dead_scratch()
    assert not (default_root() / live[LABEL_LEASE]).exists()
