"""Verdicts that can be trusted: stable snapshots, throwaway args, failures for the right reason (real engine)."""

from __future__ import annotations

import hashlib
import os
import textwrap
from pathlib import Path

import pytest

from ...support import TEST_IMAGE

INI = f"[pytest]\nopspec_image_map = alpine:3.19={TEST_IMAGE}\n"


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def tree_digest(root: Path) -> dict[str, str]:
    """Every file below ``root`` with its digest, as ``git status`` would see the tree; pytest's own
    caches (``__pycache__``, ``.pytest_cache``) are not part of the source."""
    digests = {}
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".pytest_cache"))
        for name in files:
            path = Path(current, name)
            digests[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


# Writes into its dir arg, and interleaves stdout and stderr (the order between the streams varies).
MKDIR = """
name: fs.mkdir
inputs:
  dir: { dir: {} }
  note: { string: { default: none } }
outputs:
  dir: { dir: {} }
run:
  container:
    image: { ref: 'alpine:3.19' }
    cmd: [sh, -c, 'for i in 1 2 3 4 5 6; do echo "out $i $NOTE"; echo "err $i" >&2; done; mkdir -p /d/made; echo x > /d/made/new.txt']
    dirs: { /d: $(dir) }
    envVars: { NOTE: $(note) }
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    pytester.makeini(INI)
    write(pytester.path, "ops/fs.mkdir/op.yml", MKDIR)
    write(pytester.path, "ops/fs.mkdir/fixtures/in/a.txt", "a\n")
    return pytester.path


def test_ten_reruns_match_one_snapshot(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "ops/fs.mkdir/scenarios.yml", """
        - name: makes a dir
          call: { expect: success, scope: { dir: fixtures/in }, snapshot: true }
    """)
    write(project, "ops/test_mkdir.py", """
        def test_mkdir_in_tmp_path(op_runner, op_snapshot, tmp_path):
            (tmp_path / "in").mkdir()
            for _ in range(5):
                result = op_runner.run("fs.mkdir", {"dir": tmp_path / "in", "note": str(tmp_path)}, check=True)
                assert result == op_snapshot(name="run")
    """)
    run = ["--opspec", "ops", "-p", "no:cacheprovider", "-k", "not validate"]
    # Each session its own base temp dir, as pytest-of-<user>/pytest-<N> differs from session to session.
    pytester.runpytest(*run, f"--basetemp={project / 'base-0'}", "--snapshot-update").assert_outcomes(passed=2)
    snapshots = sorted(project.glob("ops/**/__snapshots__/**/*.json"))
    assert [p.relative_to(project).as_posix() for p in snapshots] == [
        "ops/__snapshots__/test_mkdir/test_mkdir_in_tmp_path[run].json",
        "ops/fs.mkdir/__snapshots__/fs.mkdir/call[makes a dir].json",  # the whole package name
    ]
    written = {p: p.read_text() for p in snapshots}
    python_snapshot = written[snapshots[0]]
    assert '"data": "out 1 <tmp_path>\\n"' in python_snapshot and '"dir": "<args>/dir"' in python_snapshot
    assert str(project) not in python_snapshot and "base-0" not in python_snapshot
    for session in (1, 2):  # 2 sessions x 5 runs: 10 runs against the one snapshot
        pytester.runpytest(*run, f"--basetemp={project / f'base-{session}'}").assert_outcomes(passed=2)
    assert {p: p.read_text() for p in snapshots} == written


def test_dir_and_file_args_are_throwaway_copies(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "ops/fs.mkdir/scenarios.yml", """
        - name: makes a dir
          call:
            expect: success
            scope: { dir: fixtures/in }
            outputs: { dir: { a.txt: "a\\n", made: { new.txt: "x\\n" } } }
        - name: typed scope values are relative to the scenario file too
          call: { expect: success, scope: { dir: { dir: fixtures/in } }, outputs: { dir: { a.txt: "a\\n" } } }
    """)
    write(project, "ops/test_mkdir.py", """
        from pathlib import Path

        def test_outputs_are_readable_after_the_run(op_runner):
            result = op_runner.run("fs.mkdir", {"dir": "fs.mkdir/fixtures/in"}, check=True)
            out = result.outputs["dir"]
            assert (out / "made" / "new.txt").read_text() == "x\\n"
            assert out != Path(__file__).parent / "fs.mkdir/fixtures/in"

        def test_copy_args_false_lets_the_op_write_to_the_source(op_runner, tmp_path):
            (tmp_path / "mine").mkdir()
            op_runner.run("fs.mkdir", {"dir": tmp_path / "mine"}, copy_args=False, check=True)
            assert (tmp_path / "mine" / "made" / "new.txt").read_text() == "x\\n"
    """)
    before = tree_digest(project / "ops")
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    assert tree_digest(project / "ops") == before  # as `git status` would say: nothing changed


def test_expected_failures_must_fail_for_the_right_reason(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    write(pytester.path, "ops/broken/op.yml", """
        name: broken
        run:
          container:
            image: { reff: 'alpine:3.19' }
    """)
    write(pytester.path, "ops/broken/scenarios.yml", """
        - name: fails
          call: { expect: failure }
        - name: unknown package
          call: { expect: failure, opRef: ../nowhere }
    """)
    write(pytester.path, "ops/picky/op.yml", """
        name: picky
        inputs:
          who: { string: { constraints: { pattern: '^[a-z]+$' } } }
        run:
          container: { image: { ref: 'alpine:3.19' }, cmd: [sh, -c, 'echo "no $(who)" >&2; exit 4'] }
    """)
    write(pytester.path, "ops/picky/scenarios.yml", """
        - name: right reason
          call: { expect: failure, scope: { who: abc }, error: 'Exit code was: 4' }
        - name: wrong reason
          call: { expect: failure, scope: { who: ABC }, error: 'Exit code was: 4' }
        - name: refused input
          call: { expect: failure, scope: { who: ABC }, error: "must match the pattern" }
    """)
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider", "-k", "not validate")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines_random([
        'ops/broken/scenarios.yml:1:3: call "fails": the op cannot fail for the right reason: its op.yml is invalid:',
        "ops/broken/op.yml:4:12: run.container.image: 'ref' is a required property",
        'ops/broken/scenarios.yml:3:3: call "unknown package": the package does not resolve:*nowhere*',
        "ops/picky/scenarios.yml:3:3: call \"wrong reason\": the op failed, but its error does not match "
        "'Exit code was: 4'",
        "  - who: must match the pattern '^[a-z]+$' (got \"ABC\")",
    ])


def test_matchers_and_container_expectations_in_scenarios(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    write(pytester.path, "ops/build/op.yml", """
        name: build
        outputs:
          version: { string: {} }
          report: { object: {} }
        run:
          serial:
            - container:
                image: { ref: 'alpine:3.19' }
                cmd: [sh, -c, 'echo "version=1.4.$$"; echo "warming up" >&2']
                stdOut: { 'version=': version }
            - container:
                image: { ref: 'alpine:3.19' }
                cmd: [sh, -c, 'echo "report={\\"id\\": \\"$$\\", \\"ok\\": true}"; echo built']
                stdOut: { 'report=': report }
    """)
    write(pytester.path, "ops/build/scenarios.yml", """
        - name: holds
          call:
            expect: success
            outputs:
              version: { $match: '1\\.4\\.\\d+' }
              report: { id: { $any: true }, ok: true }
            containers:
              - { exit_code: 0, stderr: { $contains: warming } }
              - { output: { $contains: built }, stdout: { $match: '(?s).*built\\n' } }
        - name: does not hold
          call:
            expect: success
            outputs: { version: { $match: '2\\..*' } }
            containers: [ { stdout: { $contains: cooling } }, {}, { exit_code: 0 } ]
    """)
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider", "-k", "not validate")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        '*call "does not hold": outputs differ:',
        "  version: expected match('2\\\\..*'), got '1.4.*'",
        "*call \"does not hold\": containers differ:",
        "  containers[[]0].stdout: expected contains('cooling'), got 'version=1.4.*",
        "  containers[[]2]: expected container #3; the op ran 2",
    ])


def test_s_v_streams_container_output_live_with_run_prefixes(project: Path, pytester: pytest.Pytester) -> None:
    write(project, "ops/fs.mkdir/scenarios.yml", "- name: live\n  call: { expect: success, scope: { dir: fixtures/in } }\n")
    result = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider", "-k", "live", "-s", "-v")
    result.assert_outcomes(passed=1)
    # The two streams arrive independently, so only each one's own order is fixed.
    result.stdout.fnmatch_lines(["*▶ op fs.mkdir started", "[[]fs.mkdir alpine:3.19 *] out 1 none",
                                 "[[]fs.mkdir alpine:3.19 *] out 2 none", "✔ op fs.mkdir succeeded"])
    result.stdout.fnmatch_lines(["[[]fs.mkdir alpine:3.19 *] err 1", "[[]fs.mkdir alpine:3.19 *] err 2"])
    quiet = pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider", "-k", "live", "-v")
    assert "out 1 none" not in quiet.stdout.str()
