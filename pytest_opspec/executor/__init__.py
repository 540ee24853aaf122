"""Call graph interpreter: container, op, serial and parallel calls, scope, kill."""

from .executor import Executor, ExecutorClosedError, RootOp, interpret_op
from .result import CallSite, ContainerRun, RunResult
from .runner import OpRunner, RunningOp

__all__ = [
    "CallSite", "ContainerRun", "Executor", "ExecutorClosedError", "OpRunner", "RootOp", "RunResult", "RunningOp",
    "interpret_op",
]
