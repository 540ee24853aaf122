"""Remote package refs: the accepted forms and one clear error for each malformed kind."""

from __future__ import annotations

import pytest

from pytest_opspec.pkgs.errors import PkgRefError
from pytest_opspec.pkgs.refs import Creds, parse_remote_ref


@pytest.mark.parametrize("text, name, version", [
    ("github.com/opspec-pkgs/git.clone#1.0.0", "github.com/opspec-pkgs/git.clone", "1.0.0"),
    ("git.example.test:8443/team/sub/pkg#v2.1.0-rc.1", "git.example.test:8443/team/sub/pkg", "v2.1.0-rc.1"),
    ("github.com/o/p#release/2024", "github.com/o/p", "release/2024"),
])
def test_valid_refs_parse_into_name_and_tag(text: str, name: str, version: str) -> None:
    ref = parse_remote_ref(text)
    assert (ref.name, ref.version, ref.text, ref.url) == (name, version, text, f"https://{name}")


@pytest.mark.parametrize("text, fragment", [
    ("github.com/o/p", "no #version"),
    ("github.com/o/p#", "empty version"),
    ("https://github.com/o/p#1.0.0", "URL scheme"),
    ("github.com/o/my pkg#1.0.0", "whitespace"),
    ("github.com/o/../p#1.0.0", "'..'"),
    ("github.com/o/p#1..0", "invalid tag"),
    ("github.com/o/p#-c", "invalid tag"),
    ("github.com/o/-p#1.0.0", "invalid path segment"),
    ("github.com#1.0.0", "no host/path"),
    ("/abs/path#1.0.0", "no host/path"),
    ("github.com/o/p#1#2", "more than one '#'"),
    ("git_hub!/o/p#1", "invalid host"),
])
def test_malformed_refs_fail_naming_the_ref_and_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(PkgRefError) as caught:
        parse_remote_ref(text)
    assert repr(text) in str(caught.value) and fragment in str(caught.value)
    assert caught.value.code == "INVALID_PKG_REF"


def test_credentials_never_show_in_their_repr() -> None:
    creds = Creds("alice", "hunter2")
    assert "alice" not in repr(creds) and "hunter2" not in repr(creds) and "hunter2" not in str(creds)
