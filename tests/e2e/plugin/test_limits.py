"""Limits through the plugin: a scenario's `limits`, and `op_runner.run(..., limits=...)`, on the real engine."""

from __future__ import annotations


import pytest

from pytest_opspec.runtime.base import LABEL_OWNER

from tests.support import TEST_IMAGE, labelled

from .test_plugin_runs import session_id, write

INI = f"[pytest]\nopspec_image_map = alpine:3.19={TEST_IMAGE}\n"

HOG = """
name: hog
run:
  container:
    image: { ref: 'alpine:3.19' }
    cmd: [dd, if=/dev/zero, of=/dev/null, bs=200M, count=1]
"""


def test_scenario_limits_apply_to_the_op_and_a_report_says_out_of_memory(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    write(pytester.path, "ops/hog/op.yml", HOG)
    write(pytester.path, "ops/hog/scenarios.yml", """
        - name: fits in 512m
          call:
            expect: success
            limits: { memory: 512m, pids: 16 }
            containers: [{ exit_reason: exited, max_memory: 512m, max_cpu_seconds: 60, max_duration_seconds: 60 }]
        - name: does not fit in 64m
          call:
            expect: failure
            limits: { memory: 64m }
            containers: [{ exit_reason: oom, exit_code: 137, max_memory: 65m }]
        - name: wrongly expected to fit in 64m
          call: { expect: success, limits: { memory: 64m, network: none } }
        - name: wrongly expected to stay under 100m
          call: { expect: success, containers: [{ max_memory: 100m }] }
    """)
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=2)  # with the package's validate item
    result.stdout.fnmatch_lines([
        'ops/hog/scenarios.yml:11:3: call "wrongly expected to fit in 64m": expected the op to succeed; it ended '
        'FAILED',
        "error: nonzero container exit code. Exit code was: 137; out of memory (limit 64 MiB)",
        "container * (alpine:3.19) exit code 137, out of memory (limit 64 MiB); peak *, cpu *",
    ])
    result.stdout.fnmatch_lines([
        'ops/hog/scenarios.yml:*: call "wrongly expected to stay under 100m": containers differ:',
        "  containers[[]0].max_memory: expected at most 100 MiB, used 2* MiB",
    ])
    assert labelled({LABEL_OWNER: session_id(result)}) == ([], [])


def test_op_runner_limits_and_figures_reach_tests(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    write(pytester.path, "hog/op.yml", HOG)
    pytester.makepyfile(test_hog="""
        def test_hog_needs_more_than_64m(op_runner):
            result = op_runner.run("hog", limits={"memory": "64m"})
            container = result.containers[0]
            assert (container.exit_reason, container.exit_code) == ("oom", 137)
            assert container.peak_memory_bytes <= 65 * 2**20

        def test_hog_fits_without_limits(op_runner):
            result = op_runner.run("hog", check=True)
            assert result.containers[0].peak_memory_bytes >= 200 * 2**20
            assert result.containers[0].cpu_seconds > 0
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_a_bad_scenario_limit_is_a_collection_error_at_its_line(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    write(pytester.path, "ops/hog/op.yml", HOG)
    write(pytester.path, "ops/hog/scenarios.yml", """
        - call: { expect: failure, limits: { memory: 5m } }
    """)
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([
        "*ops/hog/scenarios.yml:1:46: [[]0].call.limits.memory: '5m' is below the smallest memory limit the engine "
        "accepts (6m)",
    ])
    assert result.ret != 0


def test_session_limits_come_from_the_flag_env_or_ini_and_a_scenario_overrides_them(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini(INI + "opspec_memory = 64m\nopspec_network = none\n")
    write(pytester.path, "ops/hog/op.yml", HOG)
    write(pytester.path, "ops/hog/scenarios.yml", """
        - name: the session's limit
          call: { expect: failure, containers: [{ exit_reason: oom }] }
        - name: its own limit
          call: { expect: success, limits: { memory: 512m } }
    """)
    pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider").assert_outcomes(passed=3)
    monkeypatch.setenv("OPSPEC_MEMORY", "1g")  # env over ini
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result = pytester.runpytest("--opspec", "ops", "--opspec-memory", "5m", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--opspec-memory: '5m' is below the smallest memory limit the engine accepts (6m)"])


def test_scenario_network_limits(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    write(pytester.path, "ops/pair/op.yml", """
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
    """)
    write(pytester.path, "ops/pair/scenarios.yml", """
        - name: reach each other by name
          call: { expect: success, limits: { network: op } }
        - name: cannot without a network
          call: { expect: failure, limits: { network: none }, error: 'Exit code was: 3$' }
    """)
    pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider").assert_outcomes(passed=3)
