"""String interpolation of ``$(ref)`` references (SEMANTICS §4 "String interpolation").

The scan follows the reference algorithm:

- Text is read left to right. Every ``$`` opens a *possible reference*; the text after it is
  collected (with any ``$`` inside opening a nested possible reference, resolved first).
- A ``)`` closes the innermost possible reference when its collected text starts with ``(`` and
  the text in between resolves: ``/path`` is package content (a missing file is an error), any
  other text is an exact scope name (its value coerced to a string; dir and socket values are
  errors). A name not in scope does not resolve: the ``)`` is kept and the scan goes on, so the
  reference stays literal (there is no escape syntax).
- At the end of the text, every possible reference still open is kept literally (``$`` plus what
  it collected).

So ``$$(a)`` gives ``$A``, ``$(a) b)`` gives ``A b)``, ``$(undefined) $(a)`` gives
``$(undefined) A``, and ``$($(inner))`` looks up the value of ``inner`` as a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import OpspecError
from ..values.coerce import CoercionError, coerce_to_string, read_text
from ..values.paths import go_join
from ..values.value import Value

OPERATOR = "$"
REF_OPENER = "("
REF_CLOSER = ")"
REF_START = OPERATOR + REF_OPENER


class InterpolationError(OpspecError):
    """A reference resolved to something that cannot be put in a string.

    ``redacted`` says the same without any value (for secret params).
    """

    def __init__(self, message: str, redacted: str | None = None) -> None:
        super().__init__(message)
        self.redacted = redacted if redacted is not None else message


class _PossibleRef:
    """The text collected after one ``$``, kept as chunks (nested results arrive whole)."""

    __slots__ = ("chunks", "opens_ref")

    def __init__(self) -> None:
        self.chunks: list[str] = []
        # Whether the collected text starts with "(", i.e. this "$" may be a "$(...)".
        self.opens_ref = False

    def append(self, text: str) -> None:
        if text:
            if not self.chunks:
                self.opens_ref = text[0] == REF_OPENER
            self.chunks.append(text)

    def text(self) -> str:
        return "".join(self.chunks)


def interpolate(expression: str, scope: Mapping[str, Value | None], pkg_dir: Path | str) -> str:
    """Replace every resolvable ``$(ref)`` in ``expression``.

    ``pkg_dir`` is the local directory of the package whose content ``$(/path)`` refers to.
    Raises InterpolationError for an unreadable package file or a value that cannot be a string.
    """
    # stack[0] collects the output; stack[1:] are the open possible references, innermost last.
    stack = [_PossibleRef()]
    for char in expression:
        top = stack[-1]
        if char == OPERATOR:
            stack.append(_PossibleRef())
        elif char == REF_CLOSER and len(stack) > 1 and top.opens_ref:
            resolved = _dereference(top.text()[1:], scope, pkg_dir)
            if resolved is None:
                top.append(char)
            else:
                stack.pop()
                stack[-1].append(resolved)
        else:
            top.append(char)
    while len(stack) > 1:
        unterminated = stack.pop()
        stack[-1].append(OPERATOR + unterminated.text())
    return stack[0].text()


def _dereference(ref: str, scope: Mapping[str, Value | None], pkg_dir: Path | str) -> str | None:
    """The text ``ref`` stands for, or None when it is not a resolvable reference."""
    if ref.startswith("/"):
        path = go_join(str(pkg_dir), ref)
        try:
            return read_text(path)
        except OSError as error:
            reason = error.strerror or str(error)
            raise InterpolationError(f"unable to deReference '{ref}'; error was: {reason}: '{path}'") from None
    if ref not in scope:
        return None
    try:
        return coerce_to_string(scope[ref]).data
    except CoercionError as error:
        raise InterpolationError(
            f"unable to deReference '{ref}' as string; error was: {error}",
            f"unable to deReference '{ref}' as string; error was: {error.redacted}",
        ) from None
