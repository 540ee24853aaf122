"""The plugin's options: one table, CLI flag > OPSPEC_* env var > ini key, typed, all in --help."""

from __future__ import annotations

import pytest

from pytest_opspec.plugin import options as settings
from pytest_opspec.plugin.session import RESOURCES
from pytest_opspec.runtime.base import PullPolicy


def test_help_names_every_option_with_its_env_var_and_ini_key(pytester: pytest.Pytester) -> None:
    text = " ".join(pytester.runpytest("--help").stdout.str().split())
    for option in settings.PLUGIN_OPTIONS:
        assert f"precedence: {option.pytest_flag} > env {option.env} > ini {option.ini}" in text
        assert f"{option.ini} " in text  # the ini key is listed among the ini options
    for flag in ("--opspec=PATH", "--opspec-node-url=URL", "--opspec-image-map=REF=LOCAL", "--opspec-pull=POLICY",
                 "--opspec-timeout=SECONDS", "--opspec-keep-containers"):
        assert flag in text


def loaded(pytester: pytest.Pytester, *args: str) -> settings.PluginSettings:
    config = pytester.parseconfigure(*args)
    return config.stash[RESOURCES].settings


def test_defaults(pytester: pytest.Pytester) -> None:
    assert loaded(pytester) == settings.PluginSettings(
        paths=[], node_url=None, image_map={}, pull=PullPolicy.MISSING, timeout=600.0, keep_containers=False)


def test_every_source_is_typed_and_the_flag_wins(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("""
        [pytest]
        opspec_image_map =
            alpine=local/a:1
            node:20=local/n:1,python=local/p:1
        opspec_pull = never
        opspec_timeout = 30
        opspec_keep_containers = true
    """)
    from_ini = loaded(pytester)
    assert (from_ini.image_map, from_ini.pull, from_ini.timeout, from_ini.keep_containers) == (
        {"alpine": "local/a:1", "node:20": "local/n:1", "python": "local/p:1"}, PullPolicy.NEVER, 30.0, True)
    monkeypatch.setenv("OPSPEC_IMAGE_MAP", "alpine=env/a:1")
    monkeypatch.setenv("OPSPEC_PULL", "always")
    monkeypatch.setenv("OPSPEC_TIMEOUT", "2.5")
    monkeypatch.setenv("OPSPEC_KEEP_CONTAINERS", "off")
    from_env = loaded(pytester)
    assert (from_env.image_map, from_env.pull, from_env.timeout, from_env.keep_containers) == (
        {"alpine": "env/a:1"}, PullPolicy.ALWAYS, 2.5, False)
    from_cli = loaded(pytester, "--opspec-image-map", "a=b", "--opspec-image-map", "c=d,e=f", "--opspec-pull",
                      "missing", "--opspec-timeout", "9", "--opspec-keep-containers")
    assert (from_cli.image_map, from_cli.pull, from_cli.timeout, from_cli.keep_containers) == (
        {"a": "b", "c": "d", "e": "f"}, PullPolicy.MISSING, 9.0, True)


@pytest.mark.parametrize("env, ini, args, message", [
    ({"OPSPEC_TIMEOUT": "soon"}, "", [], "env OPSPEC_TIMEOUT: 'soon' is not a number of seconds"),
    ({}, "opspec_timeout = 0", [], "ini opspec_timeout: '0': the timeout must be more than 0 seconds"),
    ({}, "", ["--opspec-timeout", "-1"], "--opspec-timeout: '-1': the timeout must be more than 0 seconds"),
    ({"OPSPEC_PULL": "sometimes"}, "", [], "env OPSPEC_PULL: 'sometimes' is not one of always, missing, never"),
    ({"OPSPEC_KEEP_CONTAINERS": "maybe"}, "", [], "env OPSPEC_KEEP_CONTAINERS: 'maybe' is not on/off"),
    ({}, "opspec_image_map = alpine", [], "ini opspec_image_map: image map entry 'alpine' is not REF=LOCAL_REF"),
    ({"OPSPEC_NODE_URL": "127.0.0.1:42224"}, "", [],
     "env OPSPEC_NODE_URL: '127.0.0.1:42224' is not an http:// or https:// URL of a node (e.g. "
     "http://127.0.0.1:42224)"),
    ({}, "", ["--opspec-node-url", "ftp://x"], "--opspec-node-url: 'ftp://x' is not an http:// or https:// URL"),
])
def test_bad_values_are_usage_errors_naming_their_source(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], ini: str, args: list[str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
