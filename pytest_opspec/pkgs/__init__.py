"""Package refs, resolution (local, vendored, cached and remote git packages) and discovery (SEMANTICS §1).

Import from the modules (``pkgs.resolve``, ``pkgs.refs``, ``pkgs.errors``...): this file imports nothing, so
that a module needing one constant (``pkgs.discover``) does not load resolution and git.
"""
