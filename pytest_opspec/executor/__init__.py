"""Call graph interpreter: container, op, serial and parallel calls, scope, kill."""

from .executor import Executor, ExecutorClosedError, RootOp, RootPackage, interpret_op, resolve_root
from .result import CallSite, ContainerRun, RunResult
from .runner import OpRunner, RunningOp

__all__ = [
    "CallSite", "ContainerRun", "Executor", "ExecutorClosedError", "OpRunner", "RootOp", "RootPackage", "RunResult",
    "RunningOp", "interpret_op", "resolve_root",
]
