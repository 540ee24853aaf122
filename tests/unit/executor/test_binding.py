"""Binding an op call's inputs (SEMANTICS §3, §10.2, §10.22)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_opspec.model.types import Param
from pytest_opspec.values import Value, ValueType
from pytest_opspec.executor.binding import InputsInvalidError, bind_inputs


def p(name: str, kind: ValueType, default: Any = None, *, has_default: bool | None = None, **options: Any) -> Param:
    return Param(
        name=name,
        type=kind,
        default=default,
        has_default=default is not None if has_default is None else has_default,
        **options,
    )


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    caller, callee, scratch, cwd = (tmp_path / name for name in ("caller", "callee", "scratch", "cwd"))
    for path in (caller, callee / "src", cwd / "out"):
        path.mkdir(parents=True)
    (caller / "config.yml").write_text("a: 1\n")
    (callee / "default.txt").write_text("D")
    return {"caller": caller, "callee": callee, "scratch": scratch, "cwd": cwd}


def bind(
    dirs: dict[str, Path],
    params: list[Param],
    args: dict[str, Any],
    scope: dict[str, Value] | None = None,
    **options: Any,
) -> dict[str, Value]:
    return bind_inputs(
        {param.name: param for param in params},
        args,
        scope or {},
        dirs["caller"],
        dirs["callee"],
        dirs["scratch"],
        **options,
    )


def problems(
    dirs: dict[str, Path],
    params: list[Param],
    args: dict[str, Any],
    scope: dict[str, Value] | None = None,
    **options: Any,
) -> list[str]:
    with pytest.raises(InputsInvalidError) as caught:
        bind(dirs, params, args, scope, **options)
    return caught.value.problems


# --- defaults --------------------------------------------------------------------------------


def test_json_defaults_are_used_as_they_are(dirs: dict[str, Path]) -> None:
    params = [
        p("a", ValueType.ARRAY, [1]),
        p("n", ValueType.NUMBER, 3),
        p("o", ValueType.OBJECT, {"k": 1}),
        p("s", ValueType.STRING, "x"),
        p("empty", ValueType.STRING, "", has_default=True),
    ]
    assert bind(dirs, params, {}) == {
        "a": Value.array([1]),
        "n": Value.number(3.0),
        "o": Value.object({"k": 1}),
        "s": Value.string("x"),
        "empty": Value.string(""),
    }


def test_absolute_dir_and_file_defaults_are_in_the_callee_package(dirs: dict[str, Path]) -> None:
    params = [p("src", ValueType.DIR, "/src"), p("f", ValueType.FILE, "/default.txt")]
    assert bind(dirs, params, {}) == {
        "src": Value.dir(dirs["callee"] / "src"),
        "f": Value.file(dirs["callee"] / "default.txt"),
    }


def test_relative_dir_and_file_defaults_need_a_cwd(dirs: dict[str, Path]) -> None:
    params = [p("out", ValueType.DIR, "./out")]
    assert problems(dirs, params, {}) == [
        "out: param required (its default './out' is relative; relative dir and file defaults apply only to the op "
        "run from the command line)"
    ]
    assert bind(dirs, params, {}, cwd=dirs["cwd"]) == {"out": Value.dir(dirs["cwd"] / "out")}


def test_defaults_are_validated(dirs: dict[str, Path]) -> None:
    params = [p("s", ValueType.STRING, "abc", constraints={"minLength": 5}), p("src", ValueType.DIR, "/missing")]
    assert problems(dirs, params, {}) == [
        "s: must be at least 5 characters long (got 3)",
        f"src: dir '{dirs['callee'] / 'missing'}' does not exist",
    ]


def test_a_number_default_out_of_range_is_reported_when_used(dirs: dict[str, Path]) -> None:
    huge = p("n", ValueType.NUMBER, 10**400)
    assert problems(dirs, [huge], {}) == [f"n: its default {10**400} is out of the range of a double"]
    assert bind(dirs, [huge], {"n": 1}) == {"n": Value.number(1)}


# --- args ------------------------------------------------------------------------------------


def test_args_override_defaults_and_are_evaluated_in_the_caller_scope(dirs: dict[str, Path]) -> None:
    scope = {"version": Value.string("1.2.3"), "count": Value.number(4)}
    params = [
        p("tag", ValueType.STRING, "latest"),
        p("n", ValueType.NUMBER),
        p("list", ValueType.ARRAY),
        p("doc", ValueType.OBJECT),
    ]
    bound = bind(dirs, params, {"tag": "$(version)-rc", "n": "$(count)", "list": "[$(count)]", "doc": {"a": 1}}, scope)
    assert bound == {
        "tag": Value.string("1.2.3-rc"),
        "n": Value.number(4),
        "list": Value.array([4]),
        "doc": Value.object({"a": 1}),
    }


def test_package_references_in_args_are_to_the_caller_package(dirs: dict[str, Path]) -> None:
    params = [p("cfg", ValueType.FILE), p("text", ValueType.STRING), p("d", ValueType.DIR)]
    bound = bind(dirs, params, {"cfg": "$(/config.yml)", "text": "$(/config.yml)", "d": "$(/)"})
    assert bound == {
        "cfg": Value.file(dirs["caller"] / "config.yml"),
        "text": Value.string("a: 1\n"),
        "d": Value.dir(dirs["caller"]),
    }


def test_file_args_that_are_not_files_go_to_the_scratch_dir(dirs: dict[str, Path]) -> None:
    bound = bind(dirs, [p("f", ValueType.FILE)], {"f": "hello $(who)"}, {"who": Value.string("you")})
    assert Path(bound["f"].data).parent == dirs["scratch"]
    assert Path(bound["f"].data).read_text() == "hello you"


@pytest.mark.parametrize("arg", [None, ""])
def test_implicit_binding_takes_the_caller_value_as_it_is(dirs: dict[str, Path], arg: Any) -> None:
    scope = {"s": Value.number(5), "sock": Value.socket("0.0.0.0"), "d": Value.dir(dirs["caller"])}
    params = [p("s", ValueType.STRING), p("sock", ValueType.SOCKET), p("d", ValueType.DIR)]
    assert bind(dirs, params, {"s": arg, "sock": arg, "d": arg}, scope) == scope  # no coercion


def test_implicit_binding_of_a_name_not_in_scope(dirs: dict[str, Path]) -> None:
    assert problems(dirs, [p("x", ValueType.STRING)], {"x": None}) == [
        "unable to bind to 'x' via implicit ref; 'x' not in scope"
    ]


def test_undeclared_inputs(dirs: dict[str, Path]) -> None:
    assert problems(dirs, [], {"nope": "x"}) == ["unable to bind to 'nope'; 'nope' not a defined input"]


def test_sockets_bind_only_by_reference(dirs: dict[str, Path]) -> None:
    scope = {"sock": Value.socket("0.0.0.0")}
    assert problems(dirs, [p("sock", ValueType.SOCKET)], {"sock": "$(sock)"}, scope) == [
        "unable to bind 'sock' to '$(sock)'; sockets must be passed by reference"
    ]


def test_dir_args(dirs: dict[str, Path]) -> None:
    data = dirs["caller"]
    (data / "sub").mkdir()
    scope = {"d": Value.dir(data), "text": Value.string("x")}
    params = [p("bare", ValueType.DIR), p("ref", ValueType.DIR), p("sub", ValueType.DIR), p("pkg", ValueType.DIR)]
    bound = bind(dirs, params, {"bare": "d", "ref": "$(d)", "sub": "$(d)/sub", "pkg": "/sub"}, scope)
    assert bound == {
        "bare": Value.dir(data),
        "ref": Value.dir(data),
        "sub": Value.dir(data / "sub"),
        "pkg": Value.dir(data / "sub"),
    }
    # The deprecated bare name binds whatever the caller has; validation then rejects a non-dir.
    assert problems(dirs, [p("bare", ValueType.DIR)], {"bare": "text"}, scope) == [
        "bare: dir required; got a string value"
    ]


@pytest.mark.parametrize(
    ("param", "arg", "message"),
    [
        (p("d", ValueType.DIR), ["x"], "unable to bind 'd' to '[\"x\"]'; a dir input takes a string expression"),
        (
            p("d", ValueType.DIR),
            "$(undefined)/y",
            "unable to bind 'd' to '$(undefined)/y'; error was: 'unable to evaluate "
            "$(undefined)/y to dir; 'undefined' is not in scope, so there is no dir to find '/y' in'",
        ),
        (
            p("n", ValueType.NUMBER),
            "abc",
            "unable to bind 'n' to 'abc'; error was: 'unable to coerce string 'abc' to number; invalid syntax'",
        ),
        (
            p("n", ValueType.NUMBER),
            [1],
            "unable to bind 'n' to '[1]'; error was: 'unable to evaluate [1] to number; unsupported type'",
        ),
        (
            p("t", ValueType.STRING),
            "$(/missing)",
            "unable to bind 't' to '$(/missing)'; error was: 'unable to "
            "deReference '/missing'; error was: No such file or directory",
        ),
    ],
)
def test_arg_evaluation_errors(dirs: dict[str, Path], param: Param, arg: Any, message: str) -> None:
    [problem] = problems(dirs, [param], {param.name: arg})
    assert problem.startswith(message)


# --- required, validation, collecting --------------------------------------------------------


def test_inputs_without_arg_or_default_are_required(dirs: dict[str, Path]) -> None:
    assert problems(dirs, [p("a", ValueType.STRING), p("b", ValueType.SOCKET)], {}) == [
        "a: param required",
        "b: param required",
    ]


def test_every_problem_is_collected(dirs: dict[str, Path]) -> None:
    params = [
        p("n", ValueType.NUMBER),
        p("req", ValueType.STRING),
        p("short", ValueType.STRING, constraints={"minLength": 3}),
        p("sock", ValueType.SOCKET),
    ]
    assert problems(dirs, params, {"n": "x", "short": "ab", "sock": "s", "extra": 1}) == [
        "unable to bind 'n' to 'x'; error was: 'unable to coerce string 'x' to number; invalid syntax'",
        "unable to bind 'sock' to 's'; sockets must be passed by reference",
        "unable to bind to 'extra'; 'extra' not a defined input",
        "req: param required",
        "short: must be at least 3 characters long (got 2)",
    ]


def test_the_error_message_has_the_reference_shape(dirs: dict[str, Path]) -> None:
    with pytest.raises(InputsInvalidError) as caught:
        bind(dirs, [p("a", ValueType.STRING), p("b", ValueType.STRING)], {}, callee_ref="github.com/x/y#1.0.0")
    assert str(caught.value) == (
        "\n-\n  error(s) occurred interpreting call to github.com/x/y#1.0.0:\n\n"
        "    - a: param required\n    - b: param required\n\n-"
    )
    assert caught.value.callee_ref == "github.com/x/y#1.0.0"


def test_the_callee_is_named_by_its_package_dir_by_default(dirs: dict[str, Path]) -> None:
    with pytest.raises(InputsInvalidError) as caught:
        bind(dirs, [p("a", ValueType.STRING)], {})
    assert caught.value.callee_ref == str(dirs["callee"])


def test_only_declared_inputs_are_in_the_callee_scope(dirs: dict[str, Path]) -> None:
    scope = {"a": Value.string("A"), "other": Value.string("O")}
    assert bind(dirs, [p("a", ValueType.STRING)], {"a": None}, scope) == {"a": Value.string("A")}


def test_secret_values_stay_out_of_binding_errors(dirs: dict[str, Path]) -> None:
    scope = {"token": Value.string("s3cr3t-value")}
    params = [
        p("pin", ValueType.NUMBER, is_secret=True),
        p("pw", ValueType.STRING, is_secret=True, constraints={"pattern": "^x"}),
    ]
    found = problems(dirs, params, {"pin": "$(token)", "pw": "$(token)"}, scope)
    assert found == [
        "unable to bind 'pin' to '$(token)'; error was: 'unable to coerce string to number; invalid syntax'",
        "pw: must match the pattern '^x'",
    ]
    public = problems(dirs, [p("pin", ValueType.NUMBER)], {"pin": "$(token)"}, scope)
    assert "s3cr3t-value" in public[0]


# --- root op ---------------------------------------------------------------------------------


def test_root_args_are_bound_as_they_are(dirs: dict[str, Path]) -> None:
    params = [
        p("s", ValueType.STRING),
        p("ref", ValueType.STRING),
        p("d", ValueType.DIR, "/src"),
        p("opt", ValueType.STRING, "x"),
    ]
    args = {
        "s": Value.number(5),
        "ref": Value.string("$(not-evaluated)"),
        "d": Value.dir(dirs["cwd"] / "out"),
        "opt": None,
    }
    assert bind(dirs, params, args, implicit_root=True) == {
        "s": Value.number(5),  # no coercion; valid because it coerces to "5"
        "ref": Value.string("$(not-evaluated)"),
        "d": Value.dir(dirs["cwd"] / "out"),
        "opt": Value.string("x"),
    }


def test_root_args_are_validated_on_a_coerced_copy(dirs: dict[str, Path]) -> None:
    params = [p("n", ValueType.NUMBER, constraints={"maximum": 3}), p("s", ValueType.STRING)]
    assert problems(
        dirs, params, {"n": Value.string("5"), "s": Value.dir("/x"), "x": Value.string("")}, implicit_root=True
    ) == [
        "unable to bind to 'x'; 'x' not a defined input",
        "n: must be less than or equal to 3 (got 5)",
        "s: unable to coerce dir '/x' to string; incompatible types",
    ]


def test_root_args_must_be_values(dirs: dict[str, Path]) -> None:
    with pytest.raises(TypeError, match="root op arg 's' must be a Value"):
        bind(dirs, [p("s", ValueType.STRING)], {"s": "text"}, implicit_root=True)
