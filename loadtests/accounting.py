"""What one Locust process paid and signed, written to a file when its test stops.

The CLI adds up the files of all processes and reconciles them with the chain: money each
payer spent against the paid 200s and successful settles counted here, transaction
signatures from the receipts (each must be unique), and the signing rate of the generator.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

__all__ = ["ACCOUNTING", "Accounting"]


@dataclass
class Accounting:
    paid: dict[str, list[int]] = field(default_factory=dict)  # payer -> [payments, atomic]
    signatures: list[str] = field(default_factory=list)  # from receipts / settle answers
    unconfirmed: int = 0  # paid 200s without a readable successful receipt
    signed: int = 0
    starved: int = 0  # facilitator profiles: takes that found no pre-signed payment
    sign_seconds: float = 0.0
    started: float = field(default_factory=time.time)
    # (request name, error) -> times: Locust's failures file misses those recorded while users
    # stop (after it was written), so the process counts its own, up to its last moment.
    failures: dict[tuple[str, str], int] = field(default_factory=dict)

    def record_payment(self, payer: str, amount: int, signature: str | None) -> None:
        entry = self.paid.setdefault(payer, [0, 0])
        entry[0] += 1
        entry[1] += amount
        if signature:
            self.signatures.append(signature)
        else:
            self.unconfirmed += 1

    def record_failure(self, name: str, error: str) -> None:
        key = (name, error[:300])
        self.failures[key] = self.failures.get(key, 0) + 1

    def record_signing(self, seconds: float, count: int = 1) -> None:
        self.signed += count
        self.sign_seconds += seconds

    def reset(self) -> None:
        self.paid.clear()
        self.signatures.clear()
        self.failures.clear()
        self.unconfirmed = self.signed = self.starved = 0
        self.sign_seconds = 0.0
        self.started = time.time()

    def to_json(self) -> dict:
        return {
            "pid": os.getpid(),
            "started": self.started,
            "stopped": time.time(),
            "paid": self.paid,
            "signatures": self.signatures,
            "unconfirmed": self.unconfirmed,
            "signed": self.signed,
            "signSeconds": round(self.sign_seconds, 6),
            "starved": self.starved,
            "failures": [[name, error, n] for (name, error), n in self.failures.items()],
        }

    def write(self, folder: Path | None) -> Path | None:
        """Write `process-<pid>.json` into `folder` (nothing when no folder is configured)."""
        if folder is None or (not self.signed and not self.paid and not self.failures):
            return None
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"process-{os.getpid()}.json"
        path.write_bytes(orjson.dumps(self.to_json()))
        return path


ACCOUNTING = Accounting()  # one per Locust process
