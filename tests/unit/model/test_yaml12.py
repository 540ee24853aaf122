"""op.yml is read as YAML 1.2 (core schema), with positions, and hostile input fails cleanly."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pytest_opspec.model.problems import InvalidOpError
from pytest_opspec.model.types import Position
from pytest_opspec.model.document import MAX_BYTES
from pytest_opspec.model.yaml12 import MAX_DEPTH, load_yaml_file, parse_yaml

FILE = Path("op.yml")


def value(text: str) -> object:
    return parse_yaml(f"v: {text}\n", FILE).data["v"]


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidOpError) as caught:
        parse_yaml(text, FILE)
    return [p.format() for p in caught.value.problems]


@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "y", "n", "Yes", "ON", "Off"])
def test_yaml_1_1_booleans_are_strings(text: str) -> None:
    assert value(text) == text


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False), ("FALSE", False),
    ("tRUE", "tRUE"),
])
def test_core_schema_booleans(text: str, expected: object) -> None:
    assert value(text) is expected if isinstance(expected, bool) else value(text) == expected


@pytest.mark.parametrize("text", ["~", "null", "Null", "NULL", ""])
def test_core_schema_nulls(text: str) -> None:
    assert value(text) is None


@pytest.mark.parametrize("text, expected", [
    ("17", 17), ("-17", -17), ("+17", 17), ("017", 17), ("0o17", 15), ("0x1F", 31), ("0", 0),
    ("1.5", 1.5), ("1.", 1.0), (".5", 0.5), ("1e3", 1000.0), ("-2.5E-1", -0.25),
])
def test_core_schema_numbers(text: str, expected: object) -> None:
    result = value(text)
    assert result == expected and type(result) is type(expected)


def test_core_schema_infinity_and_nan() -> None:
    assert value(".inf") == math.inf and value("-.Inf") == -math.inf and value("+.INF") == math.inf
    assert math.isnan(value(".nan")) and math.isnan(value(".NaN"))


@pytest.mark.parametrize("text", [
    "1:20",          # YAML 1.1 sexagesimal 80
    "0b101",         # YAML 1.1 binary int
    "0o8",           # not octal
    "2001-12-14",    # YAML 1.1 timestamp
    "1_000",         # YAML 1.1 digit separators
    "0x",            # incomplete hex
    "1.2.3",
    ".",
    "=",             # YAML 1.1 value key
])
def test_other_plain_scalars_are_strings(text: str) -> None:
    assert value(text) == text


def test_quoted_and_tagged_scalars() -> None:
    assert value("'17'") == "17" and value('"true"') == "true" and value("!!str 17") == "17"
    assert value("!!float 5") == 5.0 and value("!!int '5'") == 5 and value("! 5") == "5"


def test_merge_key_is_an_ordinary_key() -> None:
    data = parse_yaml("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n", FILE).data
    assert data["use"] == {"<<": {"x": 1}, "y": 2}


def test_keys_are_their_source_text() -> None:
    data = parse_yaml("80: a\ntrue: b\n1.50: c\n~: d\n'q': e\n", FILE).data
    assert list(data) == ["80", "true", "1.50", "~", "q"]


def test_positions_of_nodes_and_keys() -> None:
    document = parse_yaml("name: x\nrun:\n  serial:\n    - container:\n        image: {ref: a}\n", FILE)
    assert document.positions["/name"] == Position(1, 7)
    assert document.positions["/run/serial/0/container/image/ref"] == Position(5, 22)
    assert document.key_positions["/run/serial/0/container/image/ref"] == Position(5, 17)
    assert document.key_positions["/run"] == Position(2, 1)
    assert document.positions[""] == Position(1, 1)


def test_duplicate_keys_name_both_lines() -> None:
    assert problems("a: 1\nb:\n  c: 1\n  c: 2\n") == [
        "op.yml:4:3: b.c: duplicate key 'c' (first at line 3); YAML 1.2 requires unique keys"]


def test_syntax_error_has_line_and_column() -> None:
    (line,) = problems("name: x\nrun: [\n")
    assert line.startswith("op.yml:3:1: $: invalid YAML: ")


def test_flow_mapping_value_without_space_is_a_syntax_error() -> None:
    # YAML 1.2 allows `key:value` adjacency only after a JSON-like (quoted) key.
    (line,) = problems("c: { enum:[0,1] }\n")
    assert "invalid YAML: found unexpected ':'" in line
    assert parse_yaml('c: { "enum":[0,1] }\n', FILE).data == {"c": {"enum": [0, 1]}}


def test_empty_file_and_comments_only() -> None:
    for text in ("", "# nothing\n", "\n\n"):
        assert problems(text) == ["op.yml:1:1: $: file is empty; an op.yml must be a mapping with at least 'name'"]


def test_more_than_one_document() -> None:
    assert problems("a: 1\n---\nb: 2\n") == [
        "op.yml:2:1: $: an op.yml must hold one YAML document; found a second one"]


def test_deep_nesting_is_refused_without_crashing() -> None:
    (line,) = problems("[" * 100_000 + "]" * 100_000)
    assert f"nesting deeper than {MAX_DEPTH} levels" in line
    (line,) = problems("- " * 5_000 + "x")
    assert "nesting deeper than" in line


def test_alias_bomb_is_refused() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for index in range(1, 8):
        previous = chr(ord("a") + index - 1)
        lines.append(f"{chr(ord('a') + index)}: &{chr(ord('a') + index)} [{', '.join([f'*{previous}'] * 10)}]")
    (line,) = problems("\n".join(lines) + "\n")
    assert "document too large" in line


def test_recursive_and_undefined_aliases() -> None:
    assert "recursive alias *x" in problems("a: &x [1, *x]\n")[0]
    assert problems("a: *nope\n") == ["op.yml:1:4: a: undefined alias *nope"]


def test_aliases_share_the_anchored_value() -> None:
    assert parse_yaml("a: &x {k: 1}\nb: *x\n", FILE).data == {"a": {"k": 1}, "b": {"k": 1}}


def test_unsupported_tags_and_complex_keys() -> None:
    assert "unsupported YAML tag tag:yaml.org,2002:binary" in problems("a: !!binary aGk=\n")[0]
    assert "mapping keys must be strings, not a sequence" in problems("? [a]\n: b\n")[0]
    assert "is not a valid int" in problems("a: !!int abc\n")[0]


def test_binary_file(tmp_path: Path) -> None:
    file = tmp_path / "op.yml"
    file.write_bytes(b"name: x\x00\x01\x02")
    with pytest.raises(InvalidOpError, match="not a text file: control character"):
        load_yaml_file(file)
    file.write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    with pytest.raises(InvalidOpError, match="not a text file: invalid UTF-8 at byte 0"):
        load_yaml_file(file)


def test_size_limit(tmp_path: Path) -> None:
    file = tmp_path / "op.yml"
    file.write_text("name: x\n" + "# padding\n" * (MAX_BYTES // 10 + 1))
    with pytest.raises(InvalidOpError, match="larger than the 1 MB limit"):
        load_yaml_file(file)


def test_utf8_bom_and_utf16(tmp_path: Path) -> None:
    file = tmp_path / "op.yml"
    file.write_bytes("\ufeffname: ü\n".encode("utf-8"))
    assert load_yaml_file(file).data == {"name": "ü"}
    file.write_bytes("name: ü\n".encode("utf-16"))
    assert load_yaml_file(file).data == {"name": "ü"}


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidOpError, match="cannot read: No such file or directory"):
        load_yaml_file(tmp_path / "op.yml")
    with pytest.raises(InvalidOpError, match="is a directory"):
        load_yaml_file(tmp_path)
