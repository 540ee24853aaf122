"""`pytest_opspec_make_runtime`: a conftest.py chooses the container runtime the in-process executor uses."""

from __future__ import annotations

import textwrap

import pytest

from tests.support import TEST_IMAGE, write_package

ECHO = """
name: echo
outputs:
  said: { string: {} }
run:
  container:
    image: { ref: 'alpine:3.19' }
    cmd: [echo, 'said=hi']
    stdOut: { 'said=': said }
"""


def test_make_runtime_hook_supplies_the_runtime(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nopspec_image_map = alpine:3.19={TEST_IMAGE}\n")
    write_package(pytester.path, "ops/echo", ECHO,
                  {"scenarios.yml": "- name: says hi\n  call: { expect: success, outputs: { said: hi } }\n"})
    pytester.makeconftest(textwrap.dedent("""
        from pathlib import Path

        from pytest_opspec.runtime.docker import DockerRuntime


        class RecordingRuntime(DockerRuntime):
            def run(self, spec, on_output, on_pull_progress=lambda _: None):
                with open(Path(__file__).parent / "ran.txt", "a") as record:
                    record.write(f"{self.map_image(spec.image)}\\n")
                return super().run(spec, on_output, on_pull_progress)


        def pytest_opspec_make_runtime(image_map, pull_policy, keep_containers):
            return RecordingRuntime(image_map=image_map, pull_policy=pull_policy, keep_containers=keep_containers)
    """))
    pytester.runpytest("--opspec", "ops", "-p", "no:cacheprovider").assert_outcomes(passed=2)
    assert (pytester.path / "ran.txt").read_text() == f"{TEST_IMAGE}\n"
