"""Remote package refs at the node: resolution with pull credentials, and the rule for private packages.

``POST /ops/starts`` takes ``pkg.pullCreds``; the ``/pkgs`` routes take HTTP Basic credentials as pull
credentials. A cached package whose server asked for credentials is served only to a request whose
credentials that server accepts now (checked once per credentials and node process).
"""

from __future__ import annotations

import base64
import binascii

from ..pkgs import Package
from ..pkgs.errors import (PkgAuthenticationError, PkgAuthorizationError, PkgError, PkgNotFoundError,
                           PkgRefError)
from ..pkgs.refs import Creds, parse_remote_ref
from ..pkgs.resolve import PackageResolver
from .errors import ApiError, Code

CHALLENGE = {"WWW-Authenticate": 'Basic realm="opspec node", charset="UTF-8"'}


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


def remote_package(packages: PackageResolver, ref: str, creds: Creds | None) -> Package:
    """Resolve a remote ref for a request (the cache, else git with ``creds``), refusing a cached private
    package to a request that cannot prove access. Raises PkgError."""
    package = packages.resolve_remote(ref, creds=creds)
    cached = packages.cache.lookup(parse_remote_ref(ref))
    fetched_now = package.provenance is not None and package.provenance.source == "git"
    if cached is not None and cached.auth_required and not fetched_now:
        if creds is None:
            raise PkgAuthenticationError(ref, f"package {ref} is private; send the credentials that may pull it")
        packages.check_access(ref, creds)
    return package


def pkg_api_error(error: PkgError, *, for_pkgs_route: bool) -> ApiError:
    """The API error for a resolution failure: on ``/pkgs`` routes auth is 401 (with a challenge) or 403, a
    missing package 404; for a start every failure is a 400 whose code says why."""
    code = Code(error.code) if error.code in Code.__members__ else Code.PKG_NOT_RESOLVED
    if not for_pkgs_route:
        return ApiError(400, code, str(error))
    if isinstance(error, PkgAuthenticationError):
        return ApiError(401, code, str(error), headers=CHALLENGE)
    if isinstance(error, PkgAuthorizationError):
        return ApiError(403, code, str(error))
    if isinstance(error, PkgRefError):
        return ApiError(400, code, str(error))
    if isinstance(error, PkgNotFoundError):
        return ApiError(404, code, str(error))
    return ApiError(500, code, str(error))  # the git server failed or timed out (the seed lists only 500)
