"""pytest-opspec: test opspec 0.1.5 op packages like code."""

__version__ = "0.1.0"
OPSPEC_VERSION = "0.1.5"

# Matchers for expected values (plain Python, cheap to import).
from .values.matchers import anything, contains, match, snapshot_matcher  # noqa: E402

__all__ = ["OPSPEC_VERSION", "anything", "contains", "match", "snapshot_matcher"]
