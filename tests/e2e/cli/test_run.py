"""`opspec run`: live output, outputs, exit codes, Ctrl-C clean-up, a missing engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pytest_opspec.runtime.base import LABEL_PID
from pytest_opspec.runtime.docker import DockerRuntime

from tests.support import IMAGE_MAP, TEST_IMAGE
from tests.support.imports import NOT_FOR_A_BARE_RUN, among, run_opspec, write_bare_op

ENV = {**os.environ, "OPSPEC_IMAGE_MAP": ",".join(f"{k}={v}" for k, v in IMAGE_MAP.items()), "NO_COLOR": "1"}
OPSPEC = [sys.executable, "-m", "pytest_opspec.cli"]


def opspec(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*OPSPEC, *args], capture_output=True, text=True, cwd=cwd, env=env or ENV, timeout=120)


def test_run_streams_output_and_prints_outputs(make_op) -> None:
    pkg = make_op("greet", """
        name: greet
        inputs:
          who: { string: {} }
          times: { number: { default: 1 } }
          token: { string: { isSecret: true, default: sekrit } }
        outputs:
          greeting: { string: {} }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'echo "greeting=hi $(who) x$(times)"; echo "token is $(token)"']
            stdOut: { 'greeting=': greeting }
    """)
    done = opspec("run", str(pkg), "-a", "who=you", "-a", "times=2")
    assert done.returncode == 0, done.stderr
    assert "[greet alpine:3.19 " in done.stdout and "] greeting=hi you x2" in done.stdout
    assert "token is <secret:token>" in done.stdout and "sekrit" not in done.stdout  # secrets masked in live output
    assert "outputs:\n  greeting: hi you x2" in done.stdout


def test_run_args_file_and_json_format(make_op, tmp_path: Path) -> None:
    pkg = make_op("sum", """
        name: sum
        inputs:
          numbers: { array: {} }
          config: { object: {} }
        outputs:
          config: { object: {} }
        run:
          container: { image: { ref: 'alpine:3.19' }, cmd: [echo, '$(numbers)'] }
    """)
    args_file = tmp_path / "args.yml"
    args_file.write_text("numbers: [1, 2]\nconfig: {object: {a: 1}}\n")
    done = opspec("run", str(pkg), "--args-file", str(args_file), "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["outcome"] == "SUCCEEDED" and document["outputs"] == {"config": {"object": {"a": 1}}}
    assert "[1,2]" in done.stderr  # live output goes to stderr with --format json


def test_run_failure_exits_1_with_the_reason(make_op) -> None:
    pkg = make_op("bad", """
        name: bad
        inputs:
          n: { number: { constraints: { maximum: 3 } } }
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: ['true'] } }
    """)
    done = opspec("run", str(pkg), "-a", "n=5")
    assert done.returncode == 1
    assert "n: must be less than or equal to 3 (got 5)" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_run_usage_errors_exit_2_with_the_subcommands_usage(make_op) -> None:
    pkg = make_op("u", "name: u\ninputs: { n: { number: {} } }\n")
    for args in (["-a", "novalue"], ["-a", "n=abc"], ["--timeout", "0"], ["--timeout", "-5"], ["--timeout", "soon"]):
        refused = opspec("run", str(pkg), *args)
        assert refused.returncode == 2 and refused.stderr.startswith("usage: opspec run "), (args, refused.stderr)
    assert "'abc' is not a number" in opspec("run", str(pkg), "-a", "n=abc").stderr
    missing = opspec("run", "/no/such/pkg")
    assert missing.returncode == 2 and "usage: opspec run " in missing.stderr and "not found" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_ctrl_c_stops_the_op_and_removes_its_containers(make_op) -> None:
    pkg = make_op("long", """
        name: long
        run:
          parallel:
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo started; sleep 60'] }
            - container: { image: { ref: 'alpine:3.19' }, cmd: [sleep, '60'] }
    """)
    process = subprocess.Popen([*OPSPEC, "run", str(pkg)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=ENV)
    runtime = DockerRuntime()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            containers, _ = runtime.list_labelled({LABEL_PID: str(process.pid)})
            if len(containers) == 2:
                break
            time.sleep(0.1)
        assert len(containers) == 2, "the op's containers did not start"
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, err
        assert "interrupted" in err
        assert runtime.list_labelled({LABEL_PID: str(process.pid)}) == ([], [])
    finally:
        if process.poll() is None:
            process.kill()
        runtime.close()


def test_run_without_an_engine_fails_in_one_sentence(make_op, tmp_path: Path) -> None:
    pkg = make_op("x", "name: x\nrun: { container: { image: { ref: 'alpine:3.19' } } }\n")
    started = time.monotonic()
    done = opspec("run", str(pkg), env={**ENV, "DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert time.monotonic() - started < 30  # no retry loop: a hang guard, not a speed target
    assert done.returncode == 1
    assert done.stderr.startswith("opspec: no Docker engine answers") and done.stderr.count("\n") == 1


def test_run_limits_exit_reasons_and_figures(make_op) -> None:
    pkg = make_op("hog", """
        name: hog
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [dd, if=/dev/zero, of=/dev/null, bs=200M, count=1] } }
    """)
    human = opspec("run", str(pkg), "--memory", "64m", "--cpus", "1", "--pids-limit", "16", "--network", "none")
    assert human.returncode == 1
    assert "exited with code 137: out of memory (limit 64 MiB)" in human.stdout
    assert "containers:\n  " in human.stdout and "(alpine:3.19) exit code 137, out of memory (limit 64 MiB); peak " \
        in human.stdout

    done = opspec("run", str(pkg), "--format", "json", env={**ENV, "OPSPEC_MEMORY": "512m"})
    assert done.returncode == 0, done.stderr
    (container,) = json.loads(done.stdout)["containers"]
    assert container["exit_reason"] == "exited" and container["exit_code"] == 0
    assert container["image"] == "alpine:3.19"
    assert container["peak_memory_bytes"] >= 200 * 1024 * 1024
    assert container["cpu_seconds"] > 0 and container["duration_seconds"] > 0


def test_run_refuses_bad_limits_naming_the_option(make_op) -> None:
    pkg = make_op("nothing", "name: nothing\nrun: { container: { image: { ref: 'alpine:3.19' } } }\n")
    for args, env, message in (
        (["--memory", "5m"], {}, "--memory: '5m' is below the smallest memory limit the engine accepts (6m)"),
        (["--cpus", "half"], {}, "--cpus: 'half' is not a number of cpus"),
        ([], {"OPSPEC_NETWORK": "host"}, "env OPSPEC_NETWORK: 'host' is not a network mode; expected 'op' or 'none'"),
    ):
        done = opspec("run", str(pkg), *args, env={**ENV, **env})
        assert done.returncode == 2 and message in done.stderr, done.stderr


def test_output_dir_keeps_file_and_dir_outputs(make_op, tmp_path: Path) -> None:
    pkg = make_op("make", """
        name: make
        outputs:
          report: { file: {} }
          site: { dir: {} }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: [sh, -c, 'echo done > /report.txt; mkdir -p /site/a; echo x > /site/a/b.txt']
            files: { /report.txt: $(report) }
            dirs: { /site: $(site) }
    """)
    kept = tmp_path / "kept"
    done = opspec("run", str(pkg), "--output-dir", str(kept))
    assert done.returncode == 0, done.stderr
    assert (kept / "report").read_text() == "done\n" and (kept / "site" / "a" / "b.txt").read_text() == "x\n"
    assert f"report: {kept.resolve() / 'report'}" in done.stdout and f"site: {kept.resolve() / 'site'}" in done.stdout


def test_a_bare_run_imports_only_what_it_needs(tmp_path: Path) -> None:
    """The whole run on the engine, not only its start (tests/integration/cli/test_cli_imports.py)."""
    write_bare_op(tmp_path, TEST_IMAGE)
    # os.environ now, with the session's op cache; without TMPDIR, TEMP and TMP (the lease would ask tempfile)
    env = {name: value for name, value in os.environ.items() if name not in ("TMPDIR", "TEMP", "TMP")}
    run_opspec("run", "bare", env=env, cwd=tmp_path)  # a first run puts op.yml in the op cache (PyYAML: no more)
    code, output, loaded = run_opspec("run", "bare", env=env, cwd=tmp_path)
    assert code == 0 and "exit code 0" in output, output
    assert among(loaded, NOT_FOR_A_BARE_RUN) == []


def test_valid_op_and_values_never_import_jsonschema(make_op) -> None:
    """Validity comes from the compiled schemas (model/schema_check.py); jsonschema only explains a failure."""
    pkg = make_op("checked", """
        name: checked
        inputs:
          who: { string: { constraints: { minLength: 1, pattern: '^[a-z]+$', format: hostname } } }
          n: { number: { constraints: { minimum: 1, multipleOf: 0.5 } } }
        run:
          container:
            image: { ref: 'alpine:3.19' }
            cmd: ['true']
    """)
    code, output, loaded = run_opspec("run", str(pkg), "-a", "who=abc", "-a", "n=2.5", env=ENV)
    assert code == 0 and "jsonschema" not in loaded, output
    code, output, loaded = run_opspec("run", str(pkg), "-a", "who=ABC", "-a", "n=2", env=ENV)
    assert code == 1 and "jsonschema" in loaded, output
    assert "who: must match the pattern '^[a-z]+$'" in output
