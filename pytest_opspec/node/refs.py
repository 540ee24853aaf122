"""Package refs as the node accepts them: absolute paths of local packages, and remote refs
``host/path#tag`` (SEMANTICS §1, §10.19), with pull credentials.

``POST /ops/starts`` takes ``pkg.pullCreds``; the ``/pkgs`` routes take HTTP Basic credentials as pull
credentials. A cached package whose git server asked for credentials is served (and started) only for a
request whose credentials that server accepts now: being cached never makes a private package public.
"""

from __future__ import annotations

import base64
import binascii
import os

from ..pkgs.refs import Creds, has_scheme, is_remote_ref

from ..pkgs.resolve import Package, PackageResolver
from ..pkgs.beneath import MAX_PATH_BYTES
from ..pkgs.errors import PkgAuthenticationError, PkgAuthorizationError, PkgError, PkgRefError
from ..pkgs.refs import parse_remote_ref
from .errors import ApiError, Code

CHALLENGE = {"WWW-Authenticate": 'Basic realm="opspec node"'}


def basic_creds(header: str | None) -> Creds | None:
    """The credentials of an ``Authorization: Basic`` header; None without one. Anything else is a 401."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        decoded = None
    if scheme.lower() != "basic" or decoded is None or ":" not in decoded:
        raise ApiError(401, Code.INVALID_CREDENTIALS,
                       "the Authorization header must be HTTP Basic credentials (base64 of user:password)",
                       headers=CHALLENGE)
    username, _, password = decoded.partition(":")
    return Creds(username, password)


def check_ref(ref: str, *, not_found_status: int) -> None:
    """Refuse refs the node does not resolve, before touching the filesystem or the network."""
    if not ref:
        raise ApiError(400, Code.INVALID_PKG_REF, "the package ref is empty; send the package's absolute path "
                                                  "or a remote ref host/path#tag")
    if "\x00" in ref:
        raise ApiError(400, Code.INVALID_PKG_REF, "the package ref contains a NUL byte")
    if len(os.fsencode(ref)) > MAX_PATH_BYTES:
        raise ApiError(400, Code.INVALID_PKG_REF, f"the package ref is longer than {MAX_PATH_BYTES} bytes")
    if has_scheme(ref):
        raise ApiError(400, Code.INVALID_PKG_REF,
                       f"package ref {ref!r} has a URL scheme; send the package's absolute path or host/path#tag")
    if is_remote_ref(ref):
        try:
            parse_remote_ref(ref)
        except PkgRefError as error:
            raise ApiError(400, Code.INVALID_PKG_REF, str(error)) from None
    elif not os.path.isabs(ref):
        raise ApiError(not_found_status, Code.PKG_NOT_FOUND,
                       f"package ref {ref!r} is relative; the node resolves absolute paths of local packages (a "
                       "directory holding an op.yml) and remote refs host/path#tag")


def node_package(packages: PackageResolver, ref: str, creds: Creds | None, *, for_pkgs_route: bool) -> Package:
    """The package ``ref`` names for one request. Raises ApiError: on ``/pkgs`` routes authentication is a
    401 (with a Basic challenge), authorization a 403, a malformed ref a 400, a package that is missing or
    cannot be fetched a 404; for a start every failure is a 400 whose code says why."""
    check_ref(ref, not_found_status=404 if for_pkgs_route else 400)
    try:
        if not is_remote_ref(ref):
            return packages.resolve(ref)
        package = packages.resolve_remote(ref, creds=creds)
        cached = packages.cache.lookup(parse_remote_ref(ref))
        fetched_now = package.provenance is not None and package.provenance.source == "git"
        if cached is not None and cached.auth_required and not fetched_now:
            if creds is None:
                raise PkgAuthenticationError(ref, f"package {ref} is private; send credentials that may pull it")
            packages.check_access(ref, creds)
        return package
    except PkgError as error:
        raise _api_error(error, for_pkgs_route) from None


def _api_error(error: PkgError, for_pkgs_route: bool) -> ApiError:
    code = Code(error.code)
    if not for_pkgs_route:
        return ApiError(400, code, str(error))
    if isinstance(error, PkgAuthenticationError):
        return ApiError(401, code, str(error), headers=CHALLENGE)
    if isinstance(error, PkgAuthorizationError):
        return ApiError(403, code, str(error))
    if isinstance(error, PkgRefError):
        return ApiError(400, code, str(error))
    # Not found, and not fetchable (no answer, a broken server): the node has no such package to give; a
    # 5xx would blame the node for a ref or a git server it does not control.
    return ApiError(404, code, str(error))
