"""An installed but unused plugin loads only its hooks and option definitions: `pytest --help` and a run
without any --opspec option import none of the heavy dependencies (each in a fresh process, as installed)."""

from __future__ import annotations

import sys
import textwrap

import pytest

# What running or checking ops needs; none of it may load before an --opspec* option (or fixture) asks for it.
HEAVY = ("docker", "aiohttp", "jsonschema", "yaml", "pytest_opspec.conformance", "pytest_opspec.model",
         "pytest_opspec.executor", "pytest_opspec.backends", "pytest_opspec.node", "pytest_opspec.pkgs.resolve",
         "pytest_opspec.runtime")

REPORTER = """
    import sys

    HEAVY = {heavy!r}

    def pytest_unconfigure(config):
        loaded = sorted(name for name in sys.modules
                        if any(name == prefix or name.startswith(prefix + ".") for prefix in HEAVY))
        plugin = config.pluginmanager.get_plugin("opspec")
        print(f"opspec plugin loaded: {{plugin is not None}}; heavy modules: {{loaded}}")
"""


@pytest.fixture
def reporting(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\n")  # no ini of the repository applies
    pytester.makeconftest(textwrap.dedent(REPORTER.format(heavy=HEAVY)))
    pytester.makepyfile(test_trivial="def test_trivial():\n    assert True\n")
    return pytester


@pytest.mark.parametrize("args", [["--help"], ["test_trivial.py"]], ids=["help", "trivial-run"])
def test_unused_plugin_imports_no_heavy_module(reporting: pytest.Pytester, args: list[str]) -> None:
    result = reporting.runpytest_subprocess(*args)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["opspec plugin loaded: True; heavy modules: []"])


def test_importing_the_entry_point_imports_no_heavy_module(pytester: pytest.Pytester) -> None:
    result = pytester.run(sys.executable, "-c", textwrap.dedent(f"""
        import sys
        import pytest_opspec.plugin.hooks, pytest_opspec.plugin.fixtures
        print(sorted(name for name in sys.modules
                     if any(name == prefix or name.startswith(prefix + ".") for prefix in {HEAVY!r})))
    """))
    assert result.ret == 0
    assert result.stdout.lines[-1] == "[]"
