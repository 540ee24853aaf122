"""Load op.yml (YAML 1.2), validate it, and model it as typed dataclasses.

Public API:
- ``load_op(path) -> OpDefinition``: parse and schema-check one op.yml; raises InvalidOpError
  (an OpspecError whose ``problems`` list every error with file, line and column). Fast and
  silent, for the executor to call on every op call.
- ``validate_package(path, cache=None) -> ValidationReport``: load plus static checks; never
  raises for a bad op.
"""

from typing import TYPE_CHECKING, Any

from .load import OP_FILE, load_op, op_file_of
from .problems import InvalidOpError, Problem, Severity, json_path, json_pointer
from .types import (Call, ContainerCall, Image, OpCall, OpDefinition, ParallelCall, Param, Position, PullCreds,
                    SerialCall)

if TYPE_CHECKING:
    from .checks import CHECKS, OpCache
    from .validate import ValidationReport, validate_package

# The static checks (and the constraint validator they bring) load on first use: running an op needs none.
_LAZY = {"CHECKS": "checks", "OpCache": "checks", "ValidationReport": "validate", "validate_package": "validate"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "CHECKS", "Call", "ContainerCall", "Image", "InvalidOpError", "OP_FILE", "OpCache", "OpCall", "OpDefinition",
    "ParallelCall", "Param", "Position", "Problem", "PullCreds", "SerialCall", "Severity", "ValidationReport",
    "json_path", "json_pointer", "load_op", "op_file_of", "validate_package",
]
