"""What each fuzzer sent and got back, summed over its tests and printed at the end of the run.

Inputs are counted as they are sent, and a 5xx is recorded rather than raised, so a run reports
how many of its inputs failed (the figure the issue tracks), not just the first one; each test
then asserts its own fuzzer saw none.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

SAMPLES = 5  # failures shown per test
KEPT = 200  # failures kept in all


@dataclass
class Tally:
    name: str
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def inputs(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        """5xx answers, requests that got no answer at all (status 0) and answers that failed
        their fuzzer's check (-1)."""
        return sum(n for status, n in self.statuses.items() if failed(status))

    def record(self, status: int, what: str, answer: str) -> None:
        self.statuses[status] += 1
        if failed(status) and len(self.failures) < KEPT:
            label = _LABELS.get(status, f"HTTP {status}")
            self.failures.append(f"{label} for {what[:300]!r}: {answer[:300]!r}")

    def summary(self) -> str:
        statuses = ", ".join(
            f"{_LABELS.get(s, s)}: {n:,}" for s, n in sorted(self.statuses.items())
        )
        return (
            f"{self.name}: {self.inputs:,} inputs, {self.server_errors:,} 5xx or bad ({statuses})"
        )

    def mark(self) -> tuple[int, int]:
        return self.server_errors, len(self.failures)

    def assert_no_5xx(self, since: tuple[int, int] = (0, 0)) -> None:
        errors, shown = since
        assert self.server_errors == errors, (
            f"{self.server_errors - errors} answers 5xx, none or bad: "
            + "\n".join(self.failures[shown : shown + SAMPLES])
        )


def failed(status: int) -> bool:
    return status >= 500 or status <= 0


_LABELS = {0: "no answer", -1: "bad answer"}


TALLIES: dict[str, Tally] = {}


def tally(name: str) -> Tally:
    return TALLIES.setdefault(name, Tally(name))
