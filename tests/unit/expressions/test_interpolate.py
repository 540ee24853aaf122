"""String interpolation (SEMANTICS §4 "String interpolation")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_opspec.expressions.interpolate import InterpolationError, interpolate
from pytest_opspec.values import Value

SCOPE = {
    "a": Value.string("A"),
    "b": Value.string("B"),
    "inner": Value.string("a"),
    "innermost": Value.string("inner"),
    "name": Value.string("file.txt"),
    "empty": Value.string(""),
    "d": Value.dir("/some/dir"),
    "a) b": Value.string("WEIRD"),
}


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    (tmp_path / "file.txt").write_text("CONTENT")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nested.txt").write_text("NESTED\n")
    return tmp_path


@pytest.mark.parametrize(
    ("expression", "result"),
    [
        ("", ""),
        ("plain text", "plain text"),
        ("$(a)", "A"),
        ("x $(a) y $(b) z", "x A y B z"),
        ("$(a)$(b)", "AB"),
        ("$(empty)", ""),
        ("$(", "$("),  # unterminated
        ("x $(a", "x $(a"),
        ("$", "$"),  # $ not followed by (
        ("a$b", "a$b"),
        ("$x $(a)", "$x A"),
        ("$$(a)", "$A"),
        ("$$$(a)", "$$A"),
        ("$(a) b)", "A b)"),
        ("a)b", "a)b"),
        ("$(d/x)", "$(d/x)"),  # path syntax is literal in a string
        ("$(undefined)", "$(undefined)"),
        ("$(undefined) $(a)", "$(undefined) A"),
        ("$()", "$()"),
        ("$((a))", "$((a))"),
        ("$( a)", "$( a)"),  # names are exact: no trimming
        ("$($(inner))", "A"),  # nested: inner's value is the name
        ("$($($(innermost)))", "A"),  # to any depth
        ("$(x$(a))", "$(xA)"),  # the nested ref resolves even when the outer does not
        ("$($(undefined))", "$($(undefined))"),
        # An unresolved nested reference keeps collecting to the end, so the outer one never closes:
        ("$(/$(undefined)) $(a)", "$(/$(undefined)) A"),
        ("$(a) b) $(a) b)", "A b) A b)"),
        ("$(a) b)", "A b)"),
    ],
)
def test_interpolation(expression: str, result: str, pkg: Path) -> None:
    assert interpolate(expression, SCOPE, pkg) == result


def test_the_reference_ends_at_the_first_closer_of_a_resolvable_reference(pkg: Path) -> None:
    # "$(a) b)" resolves at the first ")" because "a" is in scope; with "a" undefined the scan
    # goes on and "a) b" is looked up as a whole name.
    scope = {"a) b": Value.string("WHOLE")}
    assert interpolate("$(a) b)", scope, pkg) == "WHOLE"
    assert interpolate("$(a) c)", scope, pkg) == "$(a) c)"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Value.number(3), "3"),
        (Value.number(1e21), "1000000000000000000000"),
        (Value.number(0.5), "0.5"),
        (Value.object({"b": "<", "a": [1]}), '{"a":[1],"b":"\\u003c"}'),
        (Value.array([1, "x"]), '[1,"x"]'),
        (None, ""),
    ],
)
def test_scope_values_are_coerced_to_strings(value: Value | None, text: str, pkg: Path) -> None:
    assert interpolate("[$(v)]", {"v": value}, pkg) == f"[{text}]"


def test_file_values_give_their_contents(pkg: Path) -> None:
    assert interpolate("<$(f)>", {"f": Value.file(pkg / "sub" / "nested.txt")}, pkg) == "<NESTED\n>"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            Value.dir("/some/dir"),
            "unable to deReference 'v' as string; error was: unable to coerce dir '/some/dir' to string; incompatible types",
        ),
        (
            Value.socket("0.0.0.0"),
            "unable to deReference 'v' as string; error was: unable to coerce socket '0.0.0.0' to string; incompatible types",
        ),
    ],
)
def test_dir_and_socket_values_cannot_be_interpolated(value: Value, message: str, pkg: Path) -> None:
    with pytest.raises(InterpolationError) as caught:
        interpolate("x $(v)", {"v": value}, pkg)
    assert str(caught.value) == message
    assert "0.0.0.0" not in caught.value.redacted and "/some/dir" not in caught.value.redacted


def test_package_content_references(pkg: Path) -> None:
    assert interpolate("[$(/file.txt)]", {}, pkg) == "[CONTENT]"
    assert interpolate("$(/sub/nested.txt)", {}, pkg) == "NESTED\n"
    assert interpolate("$(/$(name))", SCOPE, pkg) == "CONTENT"  # nesting
    assert interpolate("$(/sub/../file.txt)", {}, pkg) == "CONTENT"


@pytest.mark.parametrize(
    ("expression", "ref", "reason"),
    [
        ("$(/missing.txt)", "/missing.txt", "No such file or directory"),
        ("$(/sub)", "/sub", "Is a directory"),
        ("x $(/$(name)x)", "/file.txtx", "No such file or directory"),
    ],
)
def test_unreadable_package_content_is_an_error(expression: str, ref: str, reason: str, pkg: Path) -> None:
    with pytest.raises(InterpolationError, match=re.escape(f"unable to deReference '{ref}'; error was: {reason}")):
        interpolate(expression, SCOPE, pkg)


def test_package_content_is_read_from_the_given_package_dir(
    pkg: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("other")
    (other / "file.txt").write_text("OTHER")
    assert interpolate("$(/file.txt)", {}, other) == "OTHER"
    assert interpolate("$(/file.txt)", {}, str(pkg)) == "CONTENT"


def test_deep_nesting_does_not_exhaust_the_stack(pkg: Path) -> None:
    assert interpolate("$" * 100_000 + "(a)", SCOPE, pkg) == "$" * 99_999 + "A"
    assert interpolate("$(" * 50_000, SCOPE, pkg) == "$(" * 50_000


# --- properties ------------------------------------------------------------------------------

texts = st.text(alphabet=st.sampled_from("$()ab/ x\n") | st.characters(), max_size=60)


@given(texts)
def test_nothing_resolvable_leaves_text_unchanged(text: str) -> None:
    if "$(/" not in text:
        assert interpolate(text, {}, "/nonexistent") == text


names = st.text(alphabet="abcxyz_", min_size=1, max_size=5)
plain = st.text(alphabet=st.characters(blacklist_characters="$()"), max_size=10)


@given(st.dictionaries(names, plain, min_size=1), st.data())
def test_references_are_replaced_by_their_values(values: dict[str, str], data: st.DataObject) -> None:
    pieces = data.draw(
        st.lists(st.one_of(plain, st.sampled_from(sorted(values)).map(lambda n: ("ref", n))), max_size=8)
    )
    expression = "".join(f"$({piece[1]})" if isinstance(piece, tuple) else piece for piece in pieces)
    expected = "".join(values[piece[1]] if isinstance(piece, tuple) else piece for piece in pieces)
    assert interpolate(expression, {k: Value.string(v) for k, v in values.items()}, "/nonexistent") == expected


@given(texts, st.dictionaries(names, st.text(max_size=10).filter(lambda v: not v.startswith("/"))))
def test_interpolation_never_raises_without_package_references(text: str, values: dict[str, str]) -> None:
    if "$(/" not in text:
        interpolate(text, {k: Value.string(v) for k, v in values.items()}, "/nonexistent")
