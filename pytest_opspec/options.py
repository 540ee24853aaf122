"""Parsing of setting values shared by every configuration path (plugin options, CLI flags, conformance)."""

from __future__ import annotations


def positive_seconds(text: str) -> float:
    """A timeout in seconds, more than 0; raises ValueError with a message to show after the setting's name."""
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    if not seconds > 0:
        raise ValueError(f"{text!r}: the timeout must be more than 0 seconds")
    return seconds
