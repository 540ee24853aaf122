"""Every row of the coercion table (SEMANTICS §2)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from pytest_opspec.values import Value, ValueType
from pytest_opspec.values.coerce import (
    CoercionError,
    coerce,
    coerce_to_array,
    coerce_to_file,
    coerce_to_number,
    coerce_to_object,
    coerce_to_string,
)


@pytest.fixture
def text_file(tmp_path: Path):
    def make(content: str) -> Value:
        path = tmp_path / f"f{len(list(tmp_path.iterdir()))}"
        path.write_text(content, encoding="utf-8")
        return Value.file(path)

    return make


def read(value: Value) -> str:
    assert value.type is ValueType.FILE
    return Path(value.data).read_text(encoding="utf-8")


# --- to string -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Value.string("x y"), "x y"),
        (Value.number(3), "3"),
        (Value.number(0.1), "0.1"),
        (Value.number(1e21), "1000000000000000000000"),
        (Value.number(1e-7), "0.0000001"),
        (Value.number(-0.0), "-0"),
        (Value.array([1, "<a>", {"b": 2, "a": None}]), '[1,"\\u003ca\\u003e",{"a":null,"b":2}]'),
        (Value.object({"z": 1.5, "a": [True]}), '{"a":[true],"z":1.5}'),
        (Value.array([]), "[]"),
        (Value.object({}), "{}"),
        (None, ""),
    ],
)
def test_to_string(value: Value | None, text: str) -> None:
    assert coerce_to_string(value) == Value.string(text)


def test_string_to_string_is_the_same_value() -> None:
    value = Value.string("x")
    assert coerce_to_string(value) is value


def test_file_to_string_is_its_contents(text_file) -> None:
    assert coerce_to_string(text_file("héllo\n")) == Value.string("héllo\n")


def test_file_that_is_not_utf8_reads_with_replacement_characters(tmp_path: Path) -> None:
    path = tmp_path / "bin"
    path.write_bytes(b"a\xffb")
    assert coerce_to_string(Value.file(path)) == Value.string("a\ufffdb")


def test_missing_file_to_string_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(
        CoercionError, match=re.escape(f"unable to coerce file '{missing}' to string; cannot read it: No such file")
    ):
        coerce_to_string(Value.file(missing))


# --- to number -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (Value.number(2.5), 2.5),
        (Value.string("1e3"), 1000.0),
        (Value.string("+5"), 5.0),
        (Value.string(".5"), 0.5),
        (Value.string("-Inf"), float("-inf")),
        (None, 0.0),
    ],
)
def test_to_number(value: Value | None, number: float) -> None:
    assert coerce_to_number(value) == Value.number(number)


def test_file_to_number_parses_the_contents(text_file) -> None:
    assert coerce_to_number(text_file("42.5")) == Value.number(42.5)


def test_file_to_number_does_not_trim(text_file) -> None:
    with pytest.raises(CoercionError, match=r"unable to coerce file '.*' to number; invalid syntax"):
        coerce_to_number(text_file("5\n"))


@pytest.mark.parametrize("text", ["", " 5", "5 ", "abc", "1,5"])
def test_string_that_is_not_a_go_float_does_not_coerce(text: str) -> None:
    with pytest.raises(CoercionError) as caught:
        coerce_to_number(Value.string(text))
    assert str(caught.value) == f"unable to coerce string {text!r} to number; invalid syntax"
    assert caught.value.redacted == "unable to coerce string to number; invalid syntax"


def test_out_of_range_string_does_not_coerce() -> None:
    with pytest.raises(CoercionError, match="value out of range"):
        coerce_to_number(Value.string("1e400"))


# --- to array / object -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "data"),
    [
        (Value.array([1]), [1]),
        (Value.string('[1, "a", {"b": null}]'), [1, "a", {"b": None}]),
        (Value.string(" [] "), []),
    ],
)
def test_to_array(value: Value, data: list) -> None:
    assert coerce_to_array(value) == Value.array(data)


@pytest.mark.parametrize(
    ("value", "data"),
    [
        (Value.object({"a": 1}), {"a": 1}),
        (Value.string('{"a": [1, 2.5]}'), {"a": [1, 2.5]}),
        (Value.string("{}"), {}),
    ],
)
def test_to_object(value: Value, data: dict) -> None:
    assert coerce_to_object(value) == Value.object(data)


def test_files_parse_as_json(text_file) -> None:
    assert coerce_to_array(text_file("[1,2]\n")) == Value.array([1, 2])
    assert coerce_to_object(text_file('{"k":"v"}')) == Value.object({"k": "v"})


@pytest.mark.parametrize("coercion", [coerce_to_array, coerce_to_object])
def test_absent_and_json_null_give_no_value(coercion) -> None:
    assert coercion(None) is None
    assert coercion(Value.string("null")) is None


@pytest.mark.parametrize(
    ("coercion", "value", "message"),
    [
        (
            coerce_to_array,
            Value.string('{"a":1}'),
            "unable to coerce string '{\"a\":1}' to array; the JSON is an object, not an array",
        ),
        (
            coerce_to_object,
            Value.string("[1]"),
            "unable to coerce string '[1]' to object; the JSON is an array, not an object",
        ),
        (
            coerce_to_array,
            Value.string("1"),
            "unable to coerce string '1' to array; the JSON is a number, not an array",
        ),
        (
            coerce_to_array,
            Value.string("[1,"),
            "unable to coerce string '[1,' to array; not valid JSON: Expecting value at line 1 column 4",
        ),
        (coerce_to_object, Value.string("{NaN}"), "unable to coerce string '{NaN}' to object; not valid JSON"),
    ],
)
def test_strings_that_are_not_the_json_type_do_not_coerce(coercion, value: Value, message: str) -> None:
    with pytest.raises(CoercionError) as caught:
        coercion(value)
    assert str(caught.value).startswith(message)


# --- to file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "content"),
    [
        (Value.string("some text\n"), "some text\n"),
        (Value.number(3), "3"),
        (Value.number(1e21), "1000000000000000000000"),
        (Value.array([1, "&"]), '[1,"\\u0026"]'),
        (Value.object({"b": 1, "a": 2}), '{"a":2,"b":1}'),
        (None, ""),
    ],
)
def test_to_file_writes_a_new_scratch_file(tmp_path: Path, value: Value | None, content: str) -> None:
    scratch = tmp_path / "scratch" / "nested"  # created when missing
    coerced = coerce_to_file(value, scratch)
    path = Path(coerced.data)
    assert path.parent == scratch
    assert re.fullmatch(r"[0-9a-f]{32}", path.name)
    assert read(coerced) == content


def test_new_files_are_distinct_and_mode_0666_minus_umask(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        first = coerce_to_file(Value.string("a"), tmp_path)
        second = coerce_to_file(Value.string("a"), tmp_path)
    finally:
        os.umask(umask)
    assert first.data != second.data
    assert stat.S_IMODE(os.stat(first.data).st_mode) == 0o644


def test_file_to_file_is_the_same_path(tmp_path: Path, text_file) -> None:
    value = text_file("x")
    assert coerce_to_file(value, tmp_path / "scratch") is value
    assert not (tmp_path / "scratch").exists()


def test_unwritable_scratch_dir_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CoercionError, match="unable to coerce string to file; cannot write"):
        coerce_to_file(Value.string("x"), blocker / "sub")


# --- incompatible types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "message"),
    [
        (Value.dir("/x"), ValueType.STRING, "unable to coerce dir '/x' to string; incompatible types"),
        (Value.dir("/x"), ValueType.NUMBER, "unable to coerce dir '/x' to number; incompatible types"),
        (Value.dir("/x"), ValueType.ARRAY, "unable to coerce dir '/x' to array; incompatible types"),
        (Value.dir("/x"), ValueType.OBJECT, "unable to coerce dir '/x' to object; incompatible types"),
        (Value.dir("/x"), ValueType.FILE, "unable to coerce dir '/x' to file; incompatible types"),
        (Value.socket("0.0.0.0"), ValueType.STRING, "unable to coerce socket '0.0.0.0' to string; incompatible types"),
        (Value.socket("/s.sock"), ValueType.NUMBER, "unable to coerce socket '/s.sock' to number; incompatible types"),
        (Value.socket("a"), ValueType.ARRAY, "unable to coerce socket 'a' to array; incompatible types"),
        (Value.socket("a"), ValueType.OBJECT, "unable to coerce socket 'a' to object; incompatible types"),
        (Value.socket("a"), ValueType.FILE, "unable to coerce socket 'a' to file; incompatible types"),
        (Value.number(5), ValueType.ARRAY, "unable to coerce number '5' to array; incompatible types"),
        (Value.number(5), ValueType.OBJECT, "unable to coerce number '5' to object; incompatible types"),
        (Value.array([]), ValueType.NUMBER, "unable to coerce array to number; incompatible types"),
        (Value.array([]), ValueType.OBJECT, "unable to coerce array to object; incompatible types"),
        (Value.object({}), ValueType.NUMBER, "unable to coerce object to number; incompatible types"),
        (Value.object({}), ValueType.ARRAY, "unable to coerce object to array; incompatible types"),
    ],
)
def test_incompatible_types(tmp_path: Path, value: Value, target: ValueType, message: str) -> None:
    with pytest.raises(CoercionError) as caught:
        coerce(value, target, tmp_path)
    assert str(caught.value) == message
    assert "'" not in caught.value.redacted
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", [ValueType.DIR, ValueType.SOCKET])
@pytest.mark.parametrize(
    "value", [Value.string("/x"), Value.number(1), Value.array([]), Value.object({}), Value.file("/x"), None]
)
def test_nothing_coerces_to_dir_or_socket(value: Value | None, target: ValueType) -> None:
    with pytest.raises(CoercionError, match=f"to {target.value}; nothing can be coerced to a {target.value}"):
        coerce(value, target)


def test_dir_and_socket_values_are_themselves() -> None:
    assert coerce(Value.dir("/d"), ValueType.DIR) == Value.dir("/d")
    assert coerce(Value.socket("s"), ValueType.SOCKET) == Value.socket("s")


def test_array_holding_nan_cannot_be_written_as_json(tmp_path: Path) -> None:
    with pytest.raises(CoercionError, match="unable to coerce array to string; it cannot be written as JSON"):
        coerce_to_string(Value.array([float("nan")]))
    with pytest.raises(CoercionError, match="unable to coerce array to file"):
        coerce_to_file(Value.array([float("nan")]), tmp_path)


def test_long_strings_are_shortened_in_messages() -> None:
    with pytest.raises(CoercionError) as caught:
        coerce_to_number(Value.string("x" * 500))
    assert len(str(caught.value)) < 150
