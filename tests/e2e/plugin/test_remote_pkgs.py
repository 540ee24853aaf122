"""pytest with remote packages: op_runner root refs, scenarios' opRef, options, -n 2, validation items."""

from __future__ import annotations

import textwrap
import uuid

import pytest

from tests.support.gitserver import ECHO_OP, GitServer
from tests.support import IMAGE_MAP

IMAGE_MAP_ARGS = [arg for key, value in IMAGE_MAP.items() for arg in ("--opspec-image-map", f"{key}={value}")]


def test_op_runner_runs_remote_refs_and_xdist_workers_clone_each_once(git_env: GitServer,
                                                                      pytester: pytest.Pytester) -> None:
    names = [f"github.com/pytest-opspec/xdist-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for name in names:
        git_env.repo(name, {"op.yml": ECHO_OP})
    pytester.makepyfile(test_remote=textwrap.dedent(f"""
        import pytest
        REFS = {[f"{name}#1.0.0" for name in names]!r}

        @pytest.mark.parametrize("index", range(6))
        def test_run(op_runner, index):
            result = op_runner.run(REFS[index % 2], {{"message": "hi"}})
            assert result.succeeded, result.error
            assert result.outputs == {{"said": "hi"}}
            assert [package.ref for package in result.packages] == [REFS[index % 2]]
        """))
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", *IMAGE_MAP_ARGS,
                                           "--opspec-pkg-cache", str(pytester.path / "cache"))
    result.assert_outcomes(passed=6)
    assert [git_env.fetches[name] for name in names] == [1, 1]


def test_offline_and_map_options_reach_the_runs(git_env: GitServer, pytester: pytest.Pytester,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    stub = pytester.path / "stub"
    stub.mkdir()
    (stub / "op.yml").write_text(ECHO_OP.replace('echo "said=$(message)"', 'echo "said=stub"'))
    pytester.makepyfile(test_offline=textwrap.dedent("""
        def test_mapped(op_runner):
            assert op_runner.run("github.com/pytest-opspec/echo#1.0.0").outputs == {"said": "stub"}

        def test_not_cached(op_runner):
            op_runner.run("github.com/pytest-opspec/greet#1.0.0")
        """))
    monkeypatch.setenv("OPSPEC_OFFLINE", "1")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *IMAGE_MAP_ARGS, "--opspec-pkg-cache",
                                           str(pytester.path / "cache"), "--opspec-pkg-map",
                                           f"github.com/pytest-opspec/echo={stub}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*github.com/pytest-opspec/greet#1.0.0*opspec pkg pull*"])


def test_a_scenario_op_ref_may_be_remote(git_env: GitServer, pytester: pytest.Pytester) -> None:
    pkg = pytester.path / "pkgs" / "wrapper"
    pkg.mkdir(parents=True)
    (pkg / "op.yml").write_text("name: wrapper\nrun:\n  container:\n    image: {ref: alpine}\n    cmd: ['true']\n")
    (pkg / "scenarios.yml").write_text(textwrap.dedent("""
        - name: remote echo
          call:
            opRef: github.com/pytest-opspec/echo#1.0.0
            expect: success
            scope: { message: scenario }
            outputs: { said: scenario }
        """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--opspec", "pkgs", *IMAGE_MAP_ARGS,
                                           "--opspec-pkg-cache", str(pytester.path / "cache"))
    result.assert_outcomes(passed=2)


def test_validation_items_check_a_remote_call_only_when_it_is_available_offline(git_env: GitServer,
                                                                              pytester: pytest.Pytester) -> None:
    from pytest_opspec.pkgs.resolve import PackageResolver, PkgOptions

    pkg = pytester.path / "pkgs" / "caller"
    pkg.mkdir(parents=True)
    (pkg / "op.yml").write_text("name: caller\nrun:\n  op:\n    pkg: { ref: 'github.com/pytest-opspec/echo#1.0.0' }\n"
                                "    inputs: { bogus: x }\n")
    cache = pytester.path / "cache"
    before = sum(git_env.requests.values())
    unchecked = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--opspec", "pkgs", "--opspec-pkg-cache",
                                              str(cache))
    unchecked.assert_outcomes(passed=1)
    assert sum(git_env.requests.values()) == before  # validation never fetches
    PackageResolver(PkgOptions(cache_dir=cache)).resolve("github.com/pytest-opspec/echo#1.0.0")
    checked = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--opspec", "pkgs", "--opspec-pkg-cache",
                                            str(cache))
    checked.assert_outcomes(failed=1)
    checked.stdout.fnmatch_lines(["*declares no input 'bogus'*"])
