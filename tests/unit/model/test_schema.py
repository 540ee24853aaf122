"""The project's op.yml schema: each deliberate difference from the published one is pinned here.

Every test states our verdict; where ../shared is present it also states the published schema's
verdict, so the difference (or the sameness) documented in docs/compatibility.md is checked.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from pytest_opspec.model.schema import op_schema, schema_issues
from pytest_opspec.resources import schema_path

from tests.support import shared_dir

BASE: dict[str, Any] = {"name": "x"}


def op(**fields: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BASE), **fields}


def container(**fields: Any) -> dict[str, Any]:
    return op(run={"container": {"image": {"ref": "alpine"}, **fields}})


def param(body: Any, type_name: str = "string", name: str = "p") -> dict[str, Any]:
    return op(inputs={name: {type_name: body}})


def items(value: Any) -> dict[str, Any]:
    return param({"constraints": {"items": value}}, "array")


def ours(document: Any) -> bool:
    return not schema_issues(document)


def upstream(document: Any) -> bool | None:
    shared = shared_dir()
    if shared is None:
        return None
    schema = json.loads((shared / "spec" / "upstream" / "op.yml.schema.json").read_text())
    return Draft4Validator(schema).is_valid(document)


def verdicts(document: Any) -> tuple[bool, bool | None]:
    return ours(document), upstream(document)


def expect(document: Any, *, ours_valid: bool, upstream_valid: bool) -> None:
    mine, theirs = verdicts(document)
    assert mine is ours_valid
    if theirs is not None:
        assert theirs is upstream_valid


def test_schema_is_valid_draft_04() -> None:
    schema = json.loads(schema_path("op.yml.schema.json").read_text())
    Draft4Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["id"] == "https://opspec.io/0.1.5/op.yml.schema.json"
    assert schema == op_schema()


# schema-opcall-ref ------------------------------------------------------------------------------

def test_op_ref_without_pkg_is_rejected_with_a_hint() -> None:
    document = op(run={"op": {"ref": "github.com/opspec-pkgs/x#1.0.0"}})
    expect(document, ours_valid=False, upstream_valid=False)
    (issue,) = schema_issues(document)
    assert issue.location == ("run", "op", "ref")
    assert "in 0.1.5 write op: {pkg: {ref: ...}}" in issue.message


def test_op_pkg_ref_is_required() -> None:
    expect(op(run={"op": {"pkg": {"ref": "a"}}}), ours_valid=True, upstream_valid=True)
    expect(op(run={"op": {"inputs": {}}}), ours_valid=False, upstream_valid=False)
    expect(op(run={"op": {"pkg": {"ref": "a"}, "ref": "a"}}), ours_valid=False, upstream_valid=False)


# schema-items -----------------------------------------------------------------------------------

def test_items_accepts_a_real_constraint() -> None:
    expect(items({"minLength": 1}), ours_valid=True, upstream_valid=False)


def test_items_accepts_an_empty_schema_and_any_draft4_schema() -> None:
    expect(items({}), ours_valid=True, upstream_valid=True)
    expect(items({"properties": {"path": {"description": "x"}}, "required": ["path"]}),
           ours_valid=True, upstream_valid=True)
    expect(items([{"minLength": 1}, {"minimum": 2}]), ours_valid=True, upstream_valid=True)


def test_items_rejects_what_is_no_schema() -> None:
    expect(items("string"), ours_valid=False, upstream_valid=True)
    expect(items({"minLength": -1}), ours_valid=False, upstream_valid=True)
    expect(items({"type": "strin"}), ours_valid=False, upstream_valid=True)


# schema-type-constraints ------------------------------------------------------------------------

def test_empty_nested_constraints_are_accepted() -> None:
    document = param({"constraints": {"properties": {"name": {}}}}, "object")
    expect(document, ours_valid=True, upstream_valid=False)


def test_nested_constraints_still_reject_other_version_keywords() -> None:
    document = param({"constraints": {"properties": {"name": {"type": "string"}}}}, "object")
    expect(document, ours_valid=False, upstream_valid=False)
    (issue,) = schema_issues(document)
    assert issue.message == "'type' is not an opspec 0.1.5 constraint keyword"


# schema-missing-types ---------------------------------------------------------------------------

def test_root_must_be_a_mapping() -> None:
    expect(["name"], ours_valid=False, upstream_valid=True)
    expect(None, ours_valid=False, upstream_valid=True)


@pytest.mark.parametrize("type_name", ["array", "dir", "file", "number", "object", "socket", "string"])
def test_param_body_must_be_a_mapping(type_name: str) -> None:
    expect(param(None, type_name), ours_valid=False, upstream_valid=True)
    expect(param("text", type_name), ours_valid=False, upstream_valid=True)
    expect(param({}, type_name), ours_valid=True, upstream_valid=True)


def test_container_body_must_be_a_mapping() -> None:
    expect(op(run={"container": None}), ours_valid=False, upstream_valid=True)
    expect(op(run={"container": "alpine"}), ours_valid=False, upstream_valid=True)


def test_dependencies_array_form_must_be_an_array() -> None:
    expect(param({"constraints": {"dependencies": ["a"]}}, "object"), ours_valid=True, upstream_valid=True)
    expect(param({"constraints": {"dependencies": "a"}}, "object"), ours_valid=False, upstream_valid=True)


# schema-names -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a", "my-name", "a.b", "_x9"])
def test_param_names(name: str) -> None:
    expect(param({}, name=name), ours_valid=True, upstream_valid=True)


@pytest.mark.parametrize("name", ["my name", "a$b", "x!", "ü"])
def test_param_names_are_anchored(name: str) -> None:
    # Unanchored, the published pattern accepts any name holding one name character.
    expect(param({}, name=name), ours_valid=False, upstream_valid=name != "ü")


def test_op_call_input_names_are_anchored() -> None:
    expect(op(run={"op": {"pkg": {"ref": "a"}, "inputs": {"x y": None}}}), ours_valid=False, upstream_valid=True)


def test_op_call_output_keys_stay_unanchored() -> None:
    # Real packages write 0.1.6 write-back targets here; 0.1.5 runs them (a warning, see checks).
    document = op(run={"op": {"pkg": {"ref": "a"}, "outputs": {"$(srcDir/package.json)": "pkgJson"}}})
    expect(document, ours_valid=True, upstream_valid=True)


# schema-ports -----------------------------------------------------------------------------------

@pytest.mark.parametrize("key, value", [("80", "8080"), ("53/udp", "53"), ("8080-8081", "9090-9091"),
                                        ("443/tcp", "443")])
def test_ports(key: str, value: str) -> None:
    assert ours(container(ports={key: value}))


@pytest.mark.parametrize("key, value", [("80tcp", "80"), ("http", "80"), ("80", "127.0.0.1:80"), ("80", "x80")])
def test_ports_are_anchored(key: str, value: str) -> None:
    assert not ours(container(ports={key: value}))


def test_port_values_are_strings() -> None:
    expect(container(ports={"80": 80}), ours_valid=False, upstream_valid=False)


# schema-std-casing ------------------------------------------------------------------------------

def test_stdout_casing() -> None:
    expect(container(stdOut={"v=": "version"}, stdErr={"e=": "err"}), ours_valid=True, upstream_valid=True)
    document = container(stdout={"v=": "version"})
    expect(document, ours_valid=False, upstream_valid=False)
    (issue,) = schema_issues(document)
    assert issue.message == "unknown key 'stdout'; did you mean 'stdOut'? (keys are case-sensitive)"


# schema-mount-paths / sockets / semver ----------------------------------------------------------

@pytest.mark.parametrize("path", ["/src", "C:/src", "/a_b/c-d.e", "relative"])
def test_mount_paths(path: str) -> None:
    expect(container(dirs={path: None}, files={path: None}), ours_valid=True, upstream_valid=True)


@pytest.mark.parametrize("path", ["/my src", "/a:b", "/$x"])
def test_mount_paths_rejected(path: str) -> None:
    expect(container(dirs={path: None}), ours_valid=False, upstream_valid=False)


@pytest.mark.parametrize("address", ["/var/run/docker.sock", "0.0.0.0:80", "api"])
def test_socket_addresses(address: str) -> None:
    expect(container(sockets={address: "name"}), ours_valid=True, upstream_valid=True)


def test_socket_address_needs_a_letter_or_digit() -> None:
    expect(container(sockets={":": "name"}), ours_valid=False, upstream_valid=True)


@pytest.mark.parametrize("version, ours_valid, upstream_valid", [
    ("1.0.0", True, True), ("1.0.0-rc.1", True, True), ("1.0.0+build.5", True, True),
    ("1.0", False, False), ("v1.0.0", False, False), ("1.0.0-", True, False), ("1.0.0~>1", True, False),
])
def test_version_follows_the_seed_pattern(version: str, ours_valid: bool, upstream_valid: bool) -> None:
    expect(op(version=version), ours_valid=ours_valid, upstream_valid=upstream_valid)


def test_version_message() -> None:
    (issue,) = schema_issues(op(version="1.0"))
    assert issue.message == "'1.0' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)"


# readable errors --------------------------------------------------------------------------------

def test_call_errors_name_the_branch_meant() -> None:
    document = op(run={"serial": [{"container": {"image": {"ref": "a"}}}, {"container": {"image": {}}}]})
    (issue,) = schema_issues(document)
    assert issue.location == ("run", "serial", 1, "container", "image")
    assert issue.message == "'ref' is a required property"


def test_call_without_a_call_key() -> None:
    (issue,) = schema_issues(op(run={"serialLoop": {}}))
    assert issue.location == ("run", "serialLoop") and "loops were added after opspec 0.1.6" in issue.message
    (issue,) = schema_issues(op(run={"foo": 1}))
    assert issue.message == "expected one of the keys 'container', 'op', 'parallel' or 'serial'; found 'foo'"
    (issue,) = schema_issues(op(run={"container": {"image": {"ref": "a"}}, "op": {"pkg": {"ref": "b"}}}))
    assert issue.message.startswith("expected exactly one of the keys")


def test_param_errors() -> None:
    (issue,) = schema_issues(param({"default": 5}))
    assert issue.location == ("inputs", "p", "string", "default")
    assert issue.message == "expected string, got number 5"
    (issue,) = schema_issues(op(inputs={"p": {"boolean": {}}}))
    assert "the boolean param type was added in opspec 0.1.6" in issue.message
    (issue,) = schema_issues(param({"secret": True}))
    assert issue.message.startswith("unknown key 'secret' (did you mean 'isSecret'?); expected one of 'description', 'default'")


def test_expression_type_errors() -> None:
    (issue,) = schema_issues(container(envVars={"A": True}))
    assert issue.message == "expected null, sequence, number, mapping or string, got boolean true"


def test_every_error_is_reported() -> None:
    document = op(description=1, opspec="0.1.6", run={"container": {"image": {"ref": "a"}, "cmd": "x", "env": {}}})
    locations = sorted(str(issue.location) for issue in schema_issues(document))
    assert locations == sorted(str(loc) for loc in [("description",), ("opspec",), ("run", "container", "cmd"),
                                                    ("run", "container", "env")])


def test_schema_file_ships_with_the_package() -> None:
    assert schema_path("op.yml.schema.json").parent.name == "schemas"
    assert Path(schema_path("op.yml.schema.json")).is_file()


@pytest.mark.parametrize(("document", "message"), [
    ({"name": "x", "inptus": {}}, "unknown key 'inptus' (did you mean 'inputs'?); expected one of 'name', "),
    ({"name": "x", "run": {"container": {"image": {"reff": "a"}}}},
     "unknown key 'reff' (did you mean 'ref'?); expected one of 'ref' or 'pullCreds'"),
    ({"name": "x", "run": {"container": {"image": {"ref": "a"}, "dnsNames": []}}},
     "unknown key 'dnsNames'; expected one of 'cmd', "),  # nothing close enough: no guess
])
def test_unknown_keys_say_what_was_meant(document: dict, message: str) -> None:
    assert any(issue.message.startswith(message) for issue in schema_issues(document)), schema_issues(document)
