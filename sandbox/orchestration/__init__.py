"""Orchestration: `up`, `down`, `status`, `logs`, `fund`, and the stack the pytest plugin starts."""

from sandbox.orchestration.stack import (
    StackConfig,
    StackError,
    StackInfo,
    StackPaths,
    read_stack,
    start_stack,
    stop_stack,
)

__all__ = [
    "StackConfig",
    "StackError",
    "StackInfo",
    "StackPaths",
    "read_stack",
    "start_stack",
    "stop_stack",
]
