"""Package refs as the node accepts them: absolute local paths (SEMANTICS §10.19)."""

from __future__ import annotations

import os

from ..errors import OpspecError
from ..pkgs import Package, resolve
from ..pkgs.resolve import PkgNotFoundError, has_scheme, is_remote_ref
from .errors import ApiError, Code


def check_ref(ref: str, *, not_found_status: int) -> None:
    """Refuse refs the node does not resolve, before touching the filesystem."""
    if not ref:
        raise ApiError(400, Code.INVALID_PKG_REF, "the package ref is empty; send the package's absolute path")
    if "\x00" in ref:
        raise ApiError(400, Code.INVALID_PKG_REF, "the package ref contains a NUL byte")
    if has_scheme(ref):
        raise ApiError(400, Code.INVALID_PKG_REF,
                       f"package ref {ref!r} has a URL scheme; send the package's absolute path")
    if is_remote_ref(ref):
        raise ApiError(400, Code.REMOTE_PKG_UNSUPPORTED,
                       f"package ref {ref!r} is a remote git ref (host/path#tag); this node resolves only "
                       "local packages, by absolute path, so far")
    if not os.path.isabs(ref):
        raise ApiError(not_found_status, Code.PKG_NOT_FOUND,
                       f"package ref {ref!r} is relative; the node resolves only absolute paths of local "
                       "packages (a directory holding an op.yml)")


def resolution_error(error: OpspecError, *, not_found_status: int) -> ApiError:
    if isinstance(error, PkgNotFoundError):
        return ApiError(not_found_status, Code.PKG_NOT_FOUND, str(error))
    return ApiError(400, Code.INVALID_PKG_REF, str(error))


def local_package(ref: str, *, not_found_status: int) -> Package:
    check_ref(ref, not_found_status=not_found_status)
    try:
        return resolve(ref)
    except OpspecError as error:
        raise resolution_error(error, not_found_status=not_found_status) from None
