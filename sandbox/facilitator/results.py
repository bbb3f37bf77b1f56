"""What verify and settle return: values, rendered once by answers.py.

VerifyResult    valid, or a reason and a message
SettleResult    SUCCESS (with its transaction), FAILURE (a reason), or PENDING (sent, its
                commitment not seen: settle the same payment again to learn the outcome)
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.protocol import reasons

__all__ = ["FAILURE", "PENDING", "SUCCESS", "SettleResult", "VerifyResult"]

SUCCESS, FAILURE, PENDING = "success", "failure", "pending"


@dataclass(slots=True)
class VerifyResult:
    """Valid when `reason` is None. `payer` None: unknown, the answer takes a hint from the body."""

    payer: str | None
    reason: str | None = None
    message: str | None = None
    seconds: float = 0.0

    @property
    def valid(self) -> bool:
        return self.reason is None


@dataclass(slots=True)
class SettleResult:
    """One settlement's outcome (SUCCESS, FAILURE, or PENDING: sent, its commitment not seen)."""

    outcome: str
    payer: str | None  # None: unknown, the answer takes a hint from the body
    transaction: str = ""
    reason: str | None = None
    message: str | None = None
    amount: int | None = None
    network: str | None = None  # filled in by Settler.settle from the requirements
    seconds: float = 0.0  # likewise: the time the settlement took
    # A settlement state of the status vocabulary (settle_status.py), None when unknown.
    status: str | None = None

    @property
    def success(self) -> bool:
        return self.outcome == SUCCESS

    @classmethod
    def settled(cls, payer: str | None, transaction: str, amount: int) -> SettleResult:
        return cls(SUCCESS, payer, transaction, amount=amount, status="settled")

    @classmethod
    def failed(
        cls,
        reason: str,
        message: str,
        payer: str | None,
        transaction: str = "",
        status: str | None = None,
    ) -> SettleResult:
        return cls(FAILURE, payer, transaction, reason, message, status=status)

    @classmethod
    def pending(cls, message: str, payer: str, transaction: str) -> SettleResult:
        return cls(
            PENDING, payer, transaction, reasons.SETTLEMENT_PENDING, message, status="pending"
        )
