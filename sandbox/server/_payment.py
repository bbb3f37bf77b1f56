"""Reading the payment a request carries: its header, its payload and its transaction.

    PAYMENT-SIGNATURE   v2 payload (wins when both are sent)
    X-PAYMENT           v1 payload

A payload in the wrong header, or one whose transaction cannot be read, is a ProtocolError
naming the problem (the paywall answers 400 and never calls the facilitator).
"""

from __future__ import annotations

from sandbox.protocol import (
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    AnyPayload,
    ProtocolError,
    decode_payment_payload,
    reasons,
)
from sandbox.protocol.exact_svm.transaction import PaymentTransaction, read_transaction

__all__ = ["payment_header", "read_payment"]

_PAYMENT_SIGNATURE = PAYMENT_SIGNATURE.lower().encode()
_X_PAYMENT = X_PAYMENT.lower().encode()


def payment_header(scope) -> tuple[str, bytes | None]:
    """(header name, raw value or None): PAYMENT-SIGNATURE first, else X-PAYMENT."""
    x_payment = None
    for name, value in scope["headers"]:
        if name == _PAYMENT_SIGNATURE:
            return PAYMENT_SIGNATURE, value
        if name == _X_PAYMENT:
            x_payment = value
    return X_PAYMENT, x_payment


def read_payment(header: str, value: bytes) -> tuple[AnyPayload, PaymentTransaction]:
    """The payload and its transaction; ProtocolError when either is malformed."""
    payload = decode_payment_payload(value, header)
    _check_header_version(header, payload.x402_version)
    return payload, read_transaction(payload.payload.get("transaction"), header)


def _check_header_version(header: str, version: int) -> None:
    if header == PAYMENT_SIGNATURE and version != 2:
        raise ProtocolError(
            f"{header}: carries an x402Version {version} payload; v1 payments go in X-PAYMENT",
            reason=reasons.INVALID_X402_VERSION,
        )
    if header == X_PAYMENT and version != 1:
        raise ProtocolError(
            f"{header}: carries an x402Version {version} payload; v2 payments go in "
            "PAYMENT-SIGNATURE",
            reason=reasons.INVALID_X402_VERSION,
        )
