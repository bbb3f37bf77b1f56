"""Chain faults on demand: RPC latency, dropped transactions, late confirmation, RPC errors.

Set by CLI flags at start and changed at run time with `sandbox_setFaults`; the HTTP layer applies
the latency, the dispatcher the error rate, sendTransaction the drop rate, and the ledger the
late confirmation.
"""

from __future__ import annotations

import random
from typing import Any

from .errors import RpcError, shown
from .settings import FaultSettings

__all__ = ["Faults"]

_FIELDS = {
    "latencyMs": "latency_ms",
    "dropRate": "drop_rate",
    "lateConfirmMs": "late_confirm_ms",
    "errorRate": "error_rate",
}
_RATES = ("dropRate", "errorRate")
# Delays past these would hold requests (or confirmations) for longer than any test waits.
_MAX_MS = {"latencyMs": 60_000, "lateConfirmMs": 600_000}


class Faults:
    def __init__(self, initial: FaultSettings) -> None:
        self.latency_ms = initial.latency_ms
        self.drop_rate = initial.drop_rate
        self.late_confirm_ms = initial.late_confirm_ms
        self.error_rate = initial.error_rate
        self.dropped = 0
        self.errors = 0
        self._random = random.Random()

    def to_json(self) -> dict[str, Any]:
        return {wire: getattr(self, attr) for wire, attr in _FIELDS.items()}

    def update(self, changes: Any) -> dict[str, Any]:
        if not isinstance(changes, dict):
            raise RpcError.invalid_params('`faults` must be an object like {"dropRate": 0.5}')
        for key, value in changes.items():
            if key not in _FIELDS:
                known = ", ".join(_FIELDS)
                raise RpcError.invalid_params(f"unknown fault `{shown(key)}`; known: {known}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise RpcError.invalid_params(f"`{key}` must be a number >= 0, got {shown(value)}")
            if key in _RATES and value > 1:
                raise RpcError.invalid_params(f"`{key}` is a share between 0 and 1, got {value}")
            if key in _MAX_MS and value > _MAX_MS[key]:
                raise RpcError.invalid_params(f"`{key}` at most {_MAX_MS[key]}, got {value}")
        for key, value in changes.items():
            setattr(self, _FIELDS[key], float(value))
        return self.to_json()

    def should_drop(self) -> bool:
        if self.drop_rate and self._random.random() < self.drop_rate:
            self.dropped += 1
            return True
        return False

    def should_fail(self) -> bool:
        if self.error_rate and self._random.random() < self.error_rate:
            self.errors += 1
            return True
        return False
