"""Errors of package resolution, each with a stable ``code`` the node puts in its error bodies.

Every message names the ref; none ever carries credentials (git's own output is filtered first).
"""

from __future__ import annotations

from ..errors import OpspecError


class PkgError(OpspecError):
    """A package ref that cannot be resolved; ``code`` classifies why."""

    code = "PKG_NOT_RESOLVED"

    def __init__(self, ref: str, message: str) -> None:
        super().__init__(message)
        self.ref = ref


class PkgRefError(PkgError):
    """A ref that is malformed or of a kind no provider resolves."""

    code = "INVALID_PKG_REF"

    def __init__(self, ref: str, message: str | None = None) -> None:
        super().__init__(ref, message if message is not None else ref)


class PkgNotFoundError(PkgError):
    """No package exists for a ref (no provider hit, no such tag, no op.yml at the repository root)."""

    code = "PKG_NOT_FOUND"

    def __init__(self, ref: str, message: str | None = None) -> None:
        super().__init__(ref, message if message is not None else ref)


class PkgAuthenticationError(PkgError):
    """The git server wants credentials, or refused the ones given (HTTP 401)."""

    code = "PKG_PULL_AUTHENTICATION"


class PkgAuthorizationError(PkgError):
    """The credentials are valid but not allowed to read the repository (HTTP 403)."""

    code = "PKG_PULL_AUTHORIZATION"


class PkgFetchError(PkgError):
    """git failed for another reason: no answer in time, a broken server, no network."""

    code = "PKG_FETCH_FAILED"


class PkgOfflineError(PkgError):
    """Offline mode and the ref is neither mapped, vendored nor cached."""

    code = "PKG_OFFLINE"


class PkgTagMovedError(PkgError):
    """A tag now names another commit than the lock file pins."""

    code = "PKG_TAG_MOVED"
