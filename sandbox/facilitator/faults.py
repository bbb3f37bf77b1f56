"""Fault injection: a facilitator that misbehaves on purpose, per endpoint.

Off by default. Set by `--fault ENDPOINT:KIND[:key=value...]` flags or at run time by POST
/_sandbox/faults `{"faults": [{"endpoint": "settle", "kind": "pending", "rate": 0.5}, ...]}`.

Kinds:
    latency       add a delay: `ms`, with `distribution` fixed | uniform (ms +/- jitterMs) |
                  exponential (mean ms)
    error500      answer HTTP 500 (JSON)
    html502       answer HTTP 502 with an HTML page, as a broken proxy would
    hang          never answer (until the caller gives up, at most `seconds`)
    invalid       verify: isValid false / settle: success false, with `reason`
    pending       settle: send, but answer settlement_pending without waiting for the commitment
    fake_success  verify: isValid true without checking / settle: success without sending
Every fault has a `rate` (share of requests it hits, default 1). Latency faults add up; of the
other kinds the first that fires decides the answer. This module is the fault set; injection.py
plays it (the transport faults in an ASGI middleware, the others around the facilitator).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sandbox.protocol import reasons

__all__ = ["ENDPOINTS", "KINDS", "Fault", "FaultError", "FaultPlan", "Faults", "parse_fault_flag"]

ENDPOINTS = ("verify", "settle", "supported", "health", "*")
KINDS = ("latency", "error500", "html502", "hang", "invalid", "pending", "fake_success")
_ONLY = {
    "pending": ("settle",),
    "invalid": ("verify", "settle"),
    "fake_success": ("verify", "settle"),
}
DISTRIBUTIONS = ("fixed", "uniform", "exponential")


class FaultError(ValueError):
    """A fault description that cannot be used; the message says why."""


@dataclass(frozen=True)
class Fault:
    endpoint: str
    kind: str
    rate: float = 1.0
    ms: float = 0.0
    jitter_ms: float = 0.0
    distribution: str = "fixed"
    reason: str = reasons.SVM_PAYLOAD
    seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.endpoint not in ENDPOINTS:
            raise FaultError(f"unknown endpoint {self.endpoint!r}; choose one of {ENDPOINTS}")
        if self.kind not in KINDS:
            raise FaultError(f"unknown fault kind {self.kind!r}; choose one of {KINDS}")
        allowed = _ONLY.get(self.kind)
        if allowed and self.endpoint not in allowed:
            raise FaultError(f"fault {self.kind!r} applies to {' or '.join(allowed)} only")
        if not 0.0 <= self.rate <= 1.0:
            raise FaultError(f"rate must be between 0 and 1, got {self.rate}")
        if self.ms < 0 or self.jitter_ms < 0 or self.seconds <= 0:
            raise FaultError("ms and jitterMs must be >= 0, seconds > 0")
        if self.distribution not in DISTRIBUTIONS:
            raise FaultError(f"unknown distribution {self.distribution!r}; choose {DISTRIBUTIONS}")

    def applies_to(self, endpoint: str) -> bool:
        return self.endpoint in (endpoint, "*") and (
            self.kind not in _ONLY or endpoint in _ONLY[self.kind]
        )

    def delay(self) -> float:
        if self.distribution == "exponential" and self.ms > 0:
            return random.expovariate(1000.0 / self.ms)
        if self.distribution == "uniform":
            return (
                max(0.0, random.uniform(self.ms - self.jitter_ms, self.ms + self.jitter_ms)) / 1e3
            )
        return self.ms / 1000.0

    def to_wire(self) -> dict:
        wire = {"endpoint": self.endpoint, "kind": self.kind, "rate": self.rate}
        if self.kind == "latency":
            wire.update(ms=self.ms, jitterMs=self.jitter_ms, distribution=self.distribution)
        if self.kind == "invalid":
            wire["reason"] = self.reason
        if self.kind == "hang":
            wire["seconds"] = self.seconds
        return wire

    @classmethod
    def from_wire(cls, data: object) -> Fault:
        if not isinstance(data, dict):
            raise FaultError(f"a fault must be a JSON object, got {type(data).__name__}")
        names = {"jitterMs": "jitter_ms"}
        known = {"endpoint", "kind", "rate", "ms", "jitterMs", "distribution", "reason", "seconds"}
        unknown = set(data) - known
        if unknown:
            raise FaultError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        kwargs = {}
        for key, value in data.items():
            if key in ("endpoint", "kind", "distribution", "reason"):
                if not isinstance(value, str):
                    raise FaultError(f"fault field {key!r} must be a string")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise FaultError(f"fault field {key!r} must be a number")
            kwargs[names.get(key, key)] = value
        for required in ("endpoint", "kind"):
            if required not in kwargs:
                raise FaultError(f"a fault needs {required!r}")
        return cls(**kwargs)


def parse_fault_flag(text: str) -> Fault:
    """`settle:pending`, `verify:latency:ms=200:distribution=exponential`, `*:error500:rate=0.1`."""
    parts = text.split(":")
    if len(parts) < 2:
        raise FaultError(f"fault {text!r}: expected ENDPOINT:KIND[:key=value...]")
    data: dict[str, object] = {"endpoint": parts[0], "kind": parts[1]}
    for part in parts[2:]:
        key, sep, value = part.partition("=")
        if not sep:
            raise FaultError(f"fault {text!r}: {part!r} is not key=value")
        key = {"jitter-ms": "jitterMs", "jitter_ms": "jitterMs"}.get(key, key)
        if key in ("distribution", "reason"):
            data[key] = value
        else:
            try:
                data[key] = float(value)
            except ValueError:
                raise FaultError(f"fault {text!r}: {key} must be a number") from None
    return Fault.from_wire(data)


@dataclass(frozen=True, slots=True)
class FaultPlan:
    delay: float
    fault: Fault | None  # the terminal fault that fired, if any
    delays: tuple[Fault, ...] = ()


class Faults:
    """The current set, replaced as a whole at run time."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self.faults: list[Fault] = list(faults or [])

    def replace(self, faults: list[Fault]) -> None:
        self.faults = list(faults)

    def to_wire(self) -> dict:
        return {"faults": [fault.to_wire() for fault in self.faults]}

    def plan(self, endpoint: str) -> FaultPlan | None:
        """What happens to one request to `endpoint`; None when no fault fires (the fast path)."""
        if not self.faults:
            return None
        delay = 0.0
        delays = []
        terminal = None
        for fault in self.faults:
            if not fault.applies_to(endpoint) or random.random() >= fault.rate:
                continue
            if fault.kind == "latency":
                delay += fault.delay()
                delays.append(fault)
            elif terminal is None:
                terminal = fault
        if not delays and terminal is None:
            return None
        return FaultPlan(delay, terminal, tuple(delays))
