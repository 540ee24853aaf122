"""Error types shared across the package.

Every error a user can cause derives from OpspecError, so entry points (CLI, plugin, node)
can turn it into one clear sentence instead of a traceback.
"""


class OpspecError(Exception):
    """A problem the user can act on; str(error) is the complete message."""


class BackendError(OpspecError):
    """What runs ops (the container engine, a node) cannot do it; not the op's fault."""


class EngineUnavailableError(BackendError):
    """No container engine answers."""


class OpWaitTimeout(OpspecError, TimeoutError):
    """``wait(timeout)`` on a started op ran out of time; the op is still running (kill it, or wait again)."""
