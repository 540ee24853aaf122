"""The suite's configuration: parsing, where a bad value came from, and redaction for reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_opspec.conformance.config import OPTIONS, Config, ConfigError, raw_from_env, redact_url
from pytest_opspec.conformance.registry import Level


def test_defaults_are_the_bundled_node_and_profile_0_1_5() -> None:
    config = Config()
    assert (config.url, config.profile, config.pkg_ref_template, config.fail_on, config.fuzz_examples) == (
        None, "0.1.5", "{path}", Level.MUST, 50)


def test_values_are_parsed_by_their_option() -> None:
    config = Config.from_raw({
        "url": ("http://127.0.0.1:42224/", "URL"), "timeout": ("2.5", "--timeout"), "fail_on": ("should", "x"),
        "select": (["pkgs.*", "liveness.*,ops.kills.*"], "--select"), "pkg_dir": ("/tmp/p", "--pkg-dir"),
        "fuzz_examples": ("0", "--fuzz-examples"), "pkg_ref_template": ("/mnt/pkgs/{name}", "x"),
    })
    assert config.url == "http://127.0.0.1:42224"
    assert config.timeout == 2.5 and config.fail_on is Level.SHOULD and config.fuzz_examples == 0
    assert config.select == ("pkgs.*", "liveness.*", "ops.kills.*")
    assert config.pkg_dir == Path("/tmp/p") and config.pkg_ref_template == "/mnt/pkgs/{name}"


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
])
def test_a_bad_value_names_where_it_came_from(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Config.from_raw({name: (value, "env OPSPEC_CONFORMANCE_X")})
    assert str(raised.value).startswith("env OPSPEC_CONFORMANCE_X: ")
    assert message in str(raised.value)


def test_env_vars_are_named_after_the_options() -> None:
    raw = raw_from_env({"OPSPEC_CONFORMANCE_IMAGE": "busybox:1.36", "OPSPEC_CONFORMANCE_TIMEOUT": " ",
                        "OPSPEC_CONFORMANCE_DISABLE": "a,b"})
    assert raw == {"image": ("busybox:1.36", "env OPSPEC_CONFORMANCE_IMAGE"),
                   "disable": ("a,b", "env OPSPEC_CONFORMANCE_DISABLE")}
    assert Config.from_raw(raw).disable == ("a", "b")
    assert {option.env for option in OPTIONS} >= {"OPSPEC_CONFORMANCE_URL", "OPSPEC_CONFORMANCE_PKG_DIR"}


@pytest.mark.parametrize(("url", "shown"), [
    ("http://user:s3cret@node:42224/api", "http://user:***@node:42224/api"),
    ("https://token@node", "https://***@node"),
    ("http://node:1/?access_token=abc&x=1", "http://node:1/?access_token=***&x=1"),
    ("http://127.0.0.1:42224", "http://127.0.0.1:42224"),
])
def test_credentials_in_urls_are_redacted(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_the_configuration_in_reports_has_no_secrets() -> None:
    config = Config.from_raw({"url": ("http://me:pw@127.0.0.1:9/", "URL"),
                              "engine": ("tcp://admin:hunter2@docker:2376", "--engine")})
    document = config.to_json()
    assert "pw" not in str(document) and "hunter2" not in str(document)
    assert document["url"] == "http://me:***@127.0.0.1:9" and document["fail_on"] == "must"
