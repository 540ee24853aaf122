"""Typed evaluation (SEMANTICS §4 "Typed evaluation", §10.4, §10.6, §10.7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_opspec.expressions.evaluate import (
    EvaluationError,
    evaluate,
    is_whole_reference,
    reference_name,
    to_array,
    to_dir,
    to_file,
    to_number,
    to_object,
    to_string,
)
from pytest_opspec.values import Value, ValueType


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "file.txt").write_text("CONTENT")
    (root / "sub" / "x.txt").write_text("X")
    return root


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path / "scratch"


@pytest.fixture
def scope(tmp_path: Path) -> dict[str, Value]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "in.txt").write_text("IN")
    number_file = tmp_path / "n.txt"
    number_file.write_text("42")
    return {
        "s": Value.string("text"),
        "one": Value.string("1"),
        "n": Value.number(2.5),
        "arr": Value.array([1, 2]),
        "obj": Value.object({"k": "v"}),
        "json_arr": Value.string("[3]"),
        "json_obj": Value.string('{"a": 1}'),
        "null": Value.string("null"),
        "nfile": Value.file(number_file),
        "d": Value.dir(data_dir),
        "sock": Value.socket("0.0.0.0"),
        "name": Value.string("file.txt"),
    }


def file_text(value: Value) -> str:
    assert value.type is ValueType.FILE
    return Path(value.data).read_text()


# --- string ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ("plain", "plain"),
        ("$(s)-$(n)", "text-2.5"),
        ("$(obj)", '{"k":"v"}'),
        ("$(arr)", "[1,2]"),
        ("$(nfile)", "42"),
        ("$(undefined)", "$(undefined)"),
        (3, "3"),
        (2.5, "2.5"),
        ([1, "a"], '[1,"a"]'),
        ({"b": 1, "a": 2}, '{"a":2,"b":1}'),
    ],
)
def test_to_string(expression: object, text: str, scope: dict[str, Value], pkg: Path) -> None:
    assert to_string(expression, scope, pkg) == Value.string(text)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (True, "unable to evaluate true to string; unsupported type"),
        (None, "unable to evaluate null to string; unsupported type"),
        ("$(d)", "unable to coerce dir"),
        ("x $(sock)", "unable to deReference 'sock' as string"),
        ("$(/missing)", "unable to deReference '/missing'"),
    ],
)
def test_to_string_errors(expression: object, message: str, scope: dict[str, Value], pkg: Path) -> None:
    with pytest.raises(EvaluationError, match=re.escape(message)):
        to_string(expression, scope, pkg)


# --- number ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "number"),
    [(3, 3.0), (2.5, 2.5), ("7", 7.0), ("$(n)", 2.5), ("$(one)0", 10.0), ("$(nfile)", 42.0), ("1e3", 1000.0)],
)
def test_to_number(expression: object, number: float, scope: dict[str, Value], pkg: Path) -> None:
    assert to_number(expression, scope, pkg) == Value.number(number)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ([1], "unable to evaluate [1] to number; unsupported type"),
        ({"a": 1}, 'unable to evaluate {"a":1} to number; unsupported type'),
        (False, "unable to evaluate false to number; unsupported type"),
        ("$(s)", "unable to coerce string 'text' to number; invalid syntax"),
        ("$(arr)", "unable to coerce array to number; incompatible types"),
        (" 5", "unable to coerce string ' 5' to number; invalid syntax"),
        (10**400, "it is out of the range of a double"),
    ],
)
def test_to_number_errors(expression: object, message: str, scope: dict[str, Value], pkg: Path) -> None:
    with pytest.raises(EvaluationError, match=re.escape(message)):
        to_number(expression, scope, pkg)


def test_coercion_errors_keep_a_redacted_variant(scope: dict[str, Value], pkg: Path) -> None:
    with pytest.raises(EvaluationError) as caught:
        to_number("$(s)", scope, pkg)
    assert "text" in str(caught.value)
    assert "text" not in caught.value.redacted


# --- array / object --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "data"),
    [([1, "a"], [1, "a"]), ("$(arr)", [1, 2]), ("$(json_arr)", [3]), ("[$(n)]", [2.5]), ("[]", [])],
)
def test_to_array(expression: object, data: list, scope: dict[str, Value], pkg: Path) -> None:
    assert to_array(expression, scope, pkg) == Value.array(data)


@pytest.mark.parametrize(
    ("expression", "data"),
    [({"a": [1]}, {"a": [1]}), ("$(obj)", {"k": "v"}), ("$(json_obj)", {"a": 1}), ('{"x": "$(s)"}', {"x": "text"})],
)
def test_to_object(expression: object, data: dict, scope: dict[str, Value], pkg: Path) -> None:
    assert to_object(expression, scope, pkg) == Value.object(data)


@pytest.mark.parametrize(
    ("evaluator", "expression", "message"),
    [
        (to_array, {"a": 1}, "unsupported type"),
        (to_array, 1, "unsupported type"),
        (to_array, "$(obj)", "unable to coerce object to array; incompatible types"),
        (to_array, "$(null)", "unable to evaluate $(null) to array; it evaluates to JSON null"),
        (to_array, "null", "it evaluates to JSON null"),
        (to_object, [1], "unsupported type"),
        (to_object, "$(arr)", "unable to coerce array to object; incompatible types"),
        (to_object, "$(json_arr)", "the JSON is an array, not an object"),
        (to_object, "null", "it evaluates to JSON null"),
    ],
)
def test_array_and_object_errors(
    evaluator, expression: object, message: str, scope: dict[str, Value], pkg: Path
) -> None:
    with pytest.raises(EvaluationError, match=re.escape(message)):
        evaluator(expression, scope, pkg)


# --- file ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "content"),
    [
        (3, "3"),
        ([1, 2], "[1,2]"),
        ({"b": 1, "a": 2}, '{"a":2,"b":1}'),
        ("plain", "plain"),
        ("$(s)", "text"),  # a whole-value reference to a string: coerced to a new file
        ("$(obj)", '{"k":"v"}'),
        ("$(undefined)", "$(undefined)"),
        ("$(s) and $(n)", "text and 2.5"),
        ("$(/$(name))", "CONTENT"),  # nested: a copy of the contents, not the package path
        ("$(/file.txt) more", "CONTENT more"),  # text after the ref: interpolated contents
    ],
)
def test_to_file_new_files(expression: object, content: str, scope: dict[str, Value], pkg: Path, scratch: Path) -> None:
    value = to_file(expression, scope, pkg, scratch)
    assert Path(value.data).parent == scratch
    assert file_text(value) == content


def test_to_file_whole_reference_to_a_file_is_the_same_path(scope: dict[str, Value], pkg: Path, scratch: Path) -> None:
    assert to_file("$(nfile)", scope, pkg, scratch) == scope["nfile"]


@pytest.mark.parametrize(
    ("expression", "relative"),
    [
        ("/file.txt", "file.txt"),  # deprecated package path
        ("/$(name)", "file.txt"),
        ("$(/file.txt)", "file.txt"),  # package path, not a copy
        ("$(/sub/x.txt)", "sub/x.txt"),
        ("$(/sub/../file.txt)", "file.txt"),
    ],
)
def test_to_file_package_paths(
    expression: str, relative: str, scope: dict[str, Value], pkg: Path, scratch: Path
) -> None:
    assert to_file(expression, scope, pkg, scratch) == Value.file(pkg / relative)
    assert not scratch.exists()


@pytest.mark.parametrize(
    ("expression", "relative"),
    [
        ("$(d)/in.txt", "in.txt"),  # deprecated path after the ref
        ("$(d)/$(name)", "file.txt"),
        ("$(d/in.txt)", "in.txt"),
        ("$(d/sub/in.txt)", "sub/in.txt"),
        ("$(d/in.txt)/ignored", "in.txt"),  # as in the reference, text after $(d/path) is ignored
    ],
)
def test_to_file_paths_in_scope_dirs(
    expression: str, relative: str, scope: dict[str, Value], pkg: Path, scratch: Path
) -> None:
    assert to_file(expression, scope, pkg, scratch) == Value.file(Path(scope["d"].data) / relative)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("$(d)", "unable to coerce dir"),
        (True, "unable to evaluate true to file"),
        ("/$(d)", "unable to evaluate /$(d) to file; error was unable to deReference 'd' as string"),
        (
            "$(/missing.txt) x",
            "unable to evaluate $(/missing.txt) x to file; error was unable to deReference '/missing.txt'",
        ),
        ("$(d)/$(sock)", "unable to evaluate path /$(sock); error was unable to deReference 'sock' as string"),
    ],
)
def test_to_file_errors(expression: object, message: str, scope: dict[str, Value], pkg: Path, scratch: Path) -> None:
    with pytest.raises(EvaluationError, match=re.escape(message)):
        to_file(expression, scope, pkg, scratch)


# --- dir -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "relative_to_pkg"),
    [
        ("/sub", "sub"),  # deprecated package path
        ("$(/sub)", "sub"),  # the package's local dir, also for git packages (§10.6)
        ("$(/sub)/deeper", "sub/deeper"),
        ("$(/$(name))", "$(name/)"),  # the reference's nesting garbage: R ends at the first ")", the rest is joined
        ("/", ""),
    ],
)
def test_to_dir_package_paths(expression: str, relative_to_pkg: str, scope: dict[str, Value], pkg: Path) -> None:
    expected = str(pkg / relative_to_pkg) if relative_to_pkg else str(pkg)
    assert to_dir(expression, scope, pkg) == Value.dir(expected)


@pytest.mark.parametrize(
    ("expression", "relative"),
    [("$(d)", ""), ("$(d)/sub", "sub"), ("$(d)/$(s)", "text"), ("$(d/sub)", "sub"), ("$(d/a/b)", "a/b")],
)
def test_to_dir_scope_dirs(expression: str, relative: str, scope: dict[str, Value], pkg: Path) -> None:
    base = scope["d"].data
    assert to_dir(expression, scope, pkg) == Value.dir(f"{base}/{relative}" if relative else base)


@pytest.mark.parametrize("expression", ["$(undefined)", "$(s)", "$(n)"])
def test_to_dir_of_a_non_dir_reference_is_the_empty_dir_marker(
    expression: str, scope: dict[str, Value], pkg: Path
) -> None:
    assert to_dir(expression, scope, pkg) == Value.dir("")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "$(undefined)/y",
            "unable to evaluate $(undefined)/y to dir; 'undefined' is not in scope, so there is no dir to find '/y' in",
        ),
        ("$(s)/y", "unable to evaluate $(s)/y to dir; 's' is a string, not a dir, so there is no dir to find '/y' in"),
        ("plain", "unable to evaluate plain to dir; expected $(name), $(name/sub/path), $(/pkg/path) or /pkg/path"),
        ("x$(d)", "unable to evaluate x$(d) to dir"),
        (["/a"], 'unable to evaluate ["/a"] to dir; a dir expression must be a string'),
        ("/$(d)", "unable to evaluate /$(d) to dir; error was unable to deReference 'd' as string"),
        ("$(/sub)/$(sock)", "unable to evaluate path /$(sock); error was"),
    ],
)
def test_to_dir_errors(expression: object, message: str, scope: dict[str, Value], pkg: Path) -> None:
    with pytest.raises(EvaluationError, match=re.escape(message)):
        to_dir(expression, scope, pkg)


# --- dispatch and reference names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (ValueType.STRING, Value.string("2.5")),
        (ValueType.NUMBER, Value.number(2.5)),
    ],
)
def test_evaluate_dispatches_on_the_target_type(
    target: ValueType, expected: Value, scope: dict[str, Value], pkg: Path, scratch: Path
) -> None:
    assert evaluate("$(n)", target, scope, pkg, scratch) == expected


def test_evaluate_to_each_type(scope: dict[str, Value], pkg: Path, scratch: Path) -> None:
    assert evaluate("$(json_arr)", ValueType.ARRAY, scope, pkg) == Value.array([3])
    assert evaluate("$(json_obj)", ValueType.OBJECT, scope, pkg) == Value.object({"a": 1})
    assert evaluate("$(d)", ValueType.DIR, scope, pkg) == scope["d"]
    assert file_text(evaluate("$(n)", ValueType.FILE, scope, pkg, scratch)) == "2.5"
    with pytest.raises(EvaluationError, match="sockets are bound by reference only"):
        evaluate("$(sock)", ValueType.SOCKET, scope, pkg)
    with pytest.raises(ValueError, match="needs a scratch dir"):
        evaluate("x", ValueType.FILE, scope, pkg)


@pytest.mark.parametrize(
    ("expression", "name", "whole"),
    [
        ("$(out)", "out", True),
        ("$(my.dir_1-x)", "my.dir_1-x", True),
        ("out", "out", False),
        ("$(/pkgpath)", None, False),
        ("/pkgpath", None, False),
        ("$(d)/x", None, False),
        ("$(d/x)", None, False),
        ("$($(a))", None, False),
        ("$(a) $(b)", None, False),
        ("", None, False),
        ("$()", None, False),
        ("a b", None, False),
        (None, None, False),
        (3, None, False),
    ],
)
def test_reference_names(expression: object, name: str | None, whole: bool) -> None:
    assert reference_name(expression) == name
    assert is_whole_reference(expression) is whole
