"""The exact-SVM checks now live in `sandbox.protocol.exact_svm.facilitator`; this re-export
keeps the facilitator's own modules importing them from here until they name the new home."""

from sandbox.protocol.exact_svm.facilitator import (
    DEFAULT_MAX_COMPUTE_UNIT_LIMIT,
    DEFAULT_MAX_COMPUTE_UNIT_PRICE,
    AmountPolicy,
    CheckedPayment,
    Rejection,
    VerifyPolicy,
    check_payment,
)

__all__ = [
    "DEFAULT_MAX_COMPUTE_UNIT_LIMIT",
    "DEFAULT_MAX_COMPUTE_UNIT_PRICE",
    "AmountPolicy",
    "CheckedPayment",
    "Rejection",
    "VerifyPolicy",
    "check_payment",
]
