"""Loggers fetched when a message is logged: importing ``logging`` (and traceback and string with it) costs the
start of every `opspec run` a few milliseconds, and most runs log nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging


def logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, with logging imported on the first call."""
    import logging

    return logging.getLogger(name)
