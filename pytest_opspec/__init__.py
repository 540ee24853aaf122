"""pytest-opspec: test opspec 0.1.5 op packages like code."""

__version__ = "0.1.0"
OPSPEC_VERSION = "0.1.5"
