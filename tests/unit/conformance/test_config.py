"""The suite's configuration: parsing through the option table, where a bad value came from, and
redaction for reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_opspec.conformance.config import Config, redact_url
from pytest_opspec.conformance.profiles import PROFILES
from pytest_opspec.conformance.registry import Level
from pytest_opspec.options import CONFORMANCE_OPTIONS, NODE_API_PROFILES, OptionError, Source, resolve

OPTION = {option.name: option for option in CONFORMANCE_OPTIONS}


def from_env(environ: dict[str, str]) -> Config:
    values = {}
    for option in CONFORMANCE_OPTIONS:
        value, source = resolve(option, environ=environ)
        if source is not Source.DEFAULT:
            values[option.name] = value
    return Config.from_values(values)


def test_defaults_are_the_bundled_node_and_profile_0_1_5() -> None:
    config = Config()
    assert (config.url, config.profile, config.pkg_ref_template, config.fail_on, config.fuzz_examples) == (
        None, "0.1.5", "{path}", Level.MUST, 50)
    assert from_env({}) == config


def test_the_option_table_knows_every_profile() -> None:
    assert set(NODE_API_PROFILES) == set(PROFILES)


def test_values_are_parsed_by_their_option() -> None:
    config = from_env({
        "OPSPEC_CONFORMANCE_URL": "http://127.0.0.1:42224/", "OPSPEC_CONFORMANCE_TIMEOUT": "2.5",
        "OPSPEC_CONFORMANCE_FAIL_ON": "should", "OPSPEC_CONFORMANCE_SELECT": "pkgs.*, liveness.*,ops.kills.*",
        "OPSPEC_CONFORMANCE_PKG_DIR": "/tmp/p", "OPSPEC_CONFORMANCE_FUZZ_EXAMPLES": "0",
        "OPSPEC_CONFORMANCE_PKG_REF_TEMPLATE": "/mnt/pkgs/{name}", "OPSPEC_CONFORMANCE_IMAGE": " ",
    })
    assert config.url == "http://127.0.0.1:42224"
    assert config.timeout == 2.5 and config.fail_on is Level.SHOULD and config.fuzz_examples == 0
    assert config.select == ("pkgs.*", "liveness.*", "ops.kills.*")
    assert config.pkg_dir == Path("/tmp/p") and config.pkg_ref_template == "/mnt/pkgs/{name}"
    assert config.image == Config().image  # a blank env var counts as unset


def test_a_repeated_flag_and_commas_give_one_list() -> None:
    assert resolve(OPTION["select"], flag=["pkgs.*", "liveness.*,ops.kills.*"], flag_name="--select") == (
        ("pkgs.*", "liveness.*", "ops.kills.*"), Source.CLI)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("url", "localhost:42224", "is not an http:// or https:// URL"),
    ("profile", "0.2.0", "unknown profile '0.2.0'; known: 0.1.5"),
    ("timeout", "soon", "is not a number of seconds"),
    ("timeout", "0", "must be more than 0 seconds"),
    ("fail_on", "never", "is not one of must, should, may"),
    ("pkg_ref_template", "/pkgs/{package}", "is not a package ref template"),
    ("pkg_ref_template", "/pkgs/fixed", "names no package"),
    ("engine", "docker", "is not auto, none or a container engine URL"),
    ("fuzz_examples", "-1", "must be 0 or more"),
    ("node_port", "0", "is not a port number (1-65535)"),
    ("node_port", "http", "is not a port number"),
    ("node_cmd", "sh -c 'unclosed", "does not split into words"),
    ("node_env", "=x", "is not NAME=VALUE"),
    ("node_env", "NO_VALUE", "is not NAME=VALUE"),
    ("node_volume", "/only-one-part", "is not SOURCE:TARGET[:ro|rw]"),
    ("node_volume", "/a:relative", "must be an absolute path in the container"),
    ("node_volume", "/a:/b:rx", "the mode must be ro or rw"),
])
def test_a_bad_value_names_where_it_came_from(name: str, value: str, message: str) -> None:
    option = OPTION[name]
    with pytest.raises(OptionError) as raised:
        resolve(option, environ={option.env: value})
    assert str(raised.value).startswith(f"env {option.env}: ")
    assert message in str(raised.value)
    with pytest.raises(OptionError, match=f"^--the-flag: .*{message[:12]}"):
        resolve(option, flag=value, flag_name="--the-flag")


def test_env_vars_and_ini_keys_are_named_after_the_options() -> None:
    assert {option.env for option in CONFORMANCE_OPTIONS} >= {"OPSPEC_CONFORMANCE_URL", "OPSPEC_CONFORMANCE_PKG_DIR"}
    assert OPTION["pkg_dir"].ini == "opspec_conformance_pkg_dir"
    assert OPTION["pkg_dir"].pytest_flag == "--opspec-conformance-pkg-dir" and OPTION["pkg_dir"].cli == "--pkg-dir"


@pytest.mark.parametrize(("url", "shown"), [
    ("http://user:s3cret@node:42224/api", "http://user:***@node:42224/api"),
    ("https://token@node", "https://***@node"),
    ("http://node:1/?access_token=abc&x=1", "http://node:1/?access_token=***&x=1"),
    ("http://127.0.0.1:42224", "http://127.0.0.1:42224"),
])
def test_credentials_in_urls_are_redacted(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_the_configuration_in_reports_has_no_secrets() -> None:
    config = from_env({"OPSPEC_CONFORMANCE_URL": "http://me:pw@127.0.0.1:9/",
                       "OPSPEC_CONFORMANCE_ENGINE": "tcp://admin:hunter2@docker:2376"})
    document = config.to_json()
    assert "pw" not in str(document) and "hunter2" not in str(document)
    assert document["url"] == "http://me:***@127.0.0.1:9" and document["fail_on"] == "must"


def test_a_node_image_is_started_with_what_its_options_say() -> None:
    config = from_env({
        "OPSPEC_CONFORMANCE_NODE_IMAGE": "example/node:1", "OPSPEC_CONFORMANCE_NODE_CMD": "node serve --port '42 24'",
        "OPSPEC_CONFORMANCE_NODE_PORT": "8080", "OPSPEC_CONFORMANCE_NODE_ENV": "A=1,B=x=y",
        "OPSPEC_CONFORMANCE_NODE_VOLUME": "/var/run/docker.sock:/var/run/docker.sock,/srv/pkgs:/srv/pkgs:ro",
    })
    node = config.node
    assert node is not None and config.url is None
    assert node.cmd == ("node", "serve", "--port", "42 24") and node.port == 8080
    assert node.env == (("A", "1"), ("B", "x=y"))
    assert node.volumes == ("/var/run/docker.sock:/var/run/docker.sock:rw", "/srv/pkgs:/srv/pkgs:ro")
    assert config.to_json()["node_env"] == ["A", "B"]  # names only: values may be secrets
    assert Config().node is None


def test_a_url_and_a_node_image_are_one_too_many() -> None:
    with pytest.raises(OptionError, match="URL and --node-image: check either a running node"):
        from_env({"OPSPEC_CONFORMANCE_URL": "http://127.0.0.1:1", "OPSPEC_CONFORMANCE_NODE_IMAGE": "x"})
