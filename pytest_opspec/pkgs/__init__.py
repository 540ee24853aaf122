"""Package refs, resolution (local, vendored, cached and remote git packages) and discovery (SEMANTICS §1)."""

from .errors import PkgError, PkgNotFoundError, PkgRefError
from .refs import Creds, has_scheme, is_remote_ref
from .resolve import MANIFEST, Package, PackageResolver, PkgOptions, candidates, find_local

__all__ = ["MANIFEST", "Creds", "Package", "PackageResolver", "PkgError", "PkgNotFoundError", "PkgOptions",
           "PkgRefError", "candidates", "find_local", "has_scheme", "is_remote_ref"]
