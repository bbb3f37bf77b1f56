"""Orchestration: `up`, `down`, `status`, `logs`, `fund`, and the stack the pytest plugin starts.

The names load on first use (PEP 562), so `x402-sandbox chain`, which goes through
`sandbox.orchestration.chain_command`, starts the chain without importing the stack and payer.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
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


def __getattr__(name: str) -> object:
    if name in __all__:
        return getattr(_importlib.import_module("sandbox.orchestration.stack"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
