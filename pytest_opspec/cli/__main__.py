"""``python -m pytest_opspec.cli``: the ``opspec`` command."""

import sys

from . import main

sys.exit(main())
