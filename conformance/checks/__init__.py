"""The checks, one module per endpoint (plus negative fuzzing and the response validation, which
judge every endpoint). Importing this package registers them, in this order."""

from . import events_stream, fuzz, liveness, ops_kills, ops_starts, pkgs_contents, responses  # noqa: F401
