"""What can go wrong between the paid server and its facilitator.

    FacilitatorError                 the facilitator could not give a usable answer; the paid
    │                                request is answered with `.status` and never served
    ├── FacilitatorUnreachable (502) connection refused, reset or closed
    ├── FacilitatorTimeout (504)     no answer within --facilitator-timeout
    └── FacilitatorBadAnswer (502)   5xx, HTML, garbage, or a 4xx that names no reason
        └── SettlementNotProven      success reported, but the signature does not sign this
            │                        payment or the chain shows it failed (a lying facilitator)
            └── SettlementUnconfirmed  the signature signs this payment but the chain could not
                                     show it confirmed yet (RPC errors, slow): not an answer to
                                     the client, settlement.py keeps the payment pending

A facilitator that answers well-formed `isValid: false` / `success: false` is not an error: that
is a rejection, a value the paywall turns into a 402.
"""

from __future__ import annotations

__all__ = [
    "FacilitatorBadAnswer",
    "FacilitatorError",
    "FacilitatorTimeout",
    "FacilitatorUnreachable",
    "SettlementNotProven",
    "SettlementUnconfirmed",
]


class FacilitatorError(Exception):
    status = 502
    code = "facilitator_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FacilitatorUnreachable(FacilitatorError):
    code = "facilitator_unreachable"


class FacilitatorTimeout(FacilitatorError):
    status = 504
    code = "facilitator_timeout"


class FacilitatorBadAnswer(FacilitatorError):
    code = "facilitator_bad_answer"


class SettlementNotProven(FacilitatorBadAnswer):
    code = "settlement_not_proven"


class SettlementUnconfirmed(SettlementNotProven):
    code = "settlement_unconfirmed"

    def __init__(self, message: str, receipt) -> None:
        super().__init__(message)
        self.receipt = receipt  # the facilitator's success receipt (a SettleResponse)
