"""$(ref) interpolation and typed evaluation of expressions (SEMANTICS §4)."""
