"""Package refs, resolution and cache (SEMANTICS §1)."""

from .resolve import MANIFEST, Package, PkgNotFoundError, PkgRefError, is_remote_ref, resolve

__all__ = ["MANIFEST", "Package", "PkgNotFoundError", "PkgRefError", "is_remote_ref", "resolve"]
