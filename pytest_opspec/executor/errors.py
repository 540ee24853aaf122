"""How a call reports failure to its parent."""

from __future__ import annotations


class CallFailed(Exception):
    """A call failed; ``message`` is what the enclosing op publishes in ``opErred``.

    ``pointer`` and ``manifest`` (the op.yml path) locate the failing call in its op.yml for failure reports.
    """

    def __init__(self, message: str, *, pointer: str = "", manifest: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer
        self.manifest = manifest
