"""Slash-path joining the way the reference runtime does it (Go ``path/filepath`` on POSIX).

SEMANTICS calls this "Go join": concatenate, then clean. Unlike ``os.path.join``, a later absolute
element does not discard the earlier ones (``/a`` + ``/b`` is ``/a/b``), and ``..`` is resolved
lexically without ever climbing above ``/``.
"""

from __future__ import annotations

from pathlib import PurePath


def go_clean(path: str) -> str:
    """The shortest lexically equivalent path (Go ``filepath.Clean``); ``""`` cleans to ``"."``."""
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            # ".." at the root stays at the root.
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def go_join(*elements: str | PurePath) -> str:
    """Join non-empty elements with ``/`` and clean the result (Go ``filepath.Join``).

    All-empty input gives ``""``, as in Go.
    """
    texts = [str(element) for element in elements]
    non_empty = [text for text in texts if text]
    if not non_empty:
        return ""
    return go_clean("/".join(non_empty))
