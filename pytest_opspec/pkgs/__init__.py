"""Package refs, resolution and discovery (SEMANTICS §1)."""

from .resolve import (MANIFEST, Package, PkgNotFoundError, PkgRefError, candidates, find_local, has_scheme,
                      is_remote_ref, resolve)

__all__ = ["MANIFEST", "Package", "PkgNotFoundError", "PkgRefError", "candidates", "find_local", "has_scheme",
           "is_remote_ref", "resolve"]
