"""``python -m pytest_opspec.cli``: the ``opspec`` command."""

from . import entry

entry()
