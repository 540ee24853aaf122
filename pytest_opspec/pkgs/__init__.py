"""Package refs, resolution and cache (SEMANTICS §1)."""
