"""Every answer a facilitator gives, as plain dicts ready for orjson (the hot path stays dict-fast).

    verify_valid(payer)                              VerifyResponse, isValid true
    verify_invalid(reason, message, payer)           VerifyResponse, isValid false
    settle_success(transaction, network, payer, amount)    SettleResponse, success true
    settle_failure(reason, message, network, transaction, payer)   SettleResponse, success false
    supported(fee_payers, network, v1_network)       the GET /supported body (SupportedResponse)

Each builder's output parses with its model in `sandbox.protocol.models` and dumps back to the
same dict (tests/protocol/test_exact_svm_wire.py). Optional fields are left out when unset, as
`WireModel.to_wire` leaves them out. A reason may be a `reasons.Reason` (it serialises as its
string) or an injected fault's own string.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sandbox.protocol.exact_svm.transaction import SCHEME

__all__ = ["settle_failure", "settle_success", "supported", "verify_invalid", "verify_valid"]


def verify_valid(payer: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"isValid": True}
    if payer:
        body["payer"] = payer
    return body


def verify_invalid(reason: str, message: str, payer: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"isValid": False, "invalidReason": reason, "invalidMessage": message}
    if payer:
        body["payer"] = payer
    return body


def settle_success(
    transaction: str, network: str, payer: str | None = None, amount: int | str | None = None
) -> dict[str, Any]:
    """`amount`: the atomic units the transfer moved (written as a string of digits)."""
    body: dict[str, Any] = {"success": True, "transaction": transaction, "network": network}
    if payer:
        body["payer"] = payer
    if amount is not None:
        body["amount"] = str(amount)
    return body


def settle_failure(
    reason: str,
    message: str,
    network: str | None = None,
    transaction: str = "",
    payer: str | None = None,
) -> dict[str, Any]:
    """`network` is required on the wire; None leaves it for the caller to add (a body that did
    not parse names no requirements). `transaction`: the signature, when one was sent."""
    body: dict[str, Any] = {"success": False, "transaction": transaction}
    if network is not None:
        body["network"] = network
    if payer:
        body["payer"] = payer
    body["errorReason"] = reason
    body["errorMessage"] = message
    return body


def supported(
    fee_payers: Sequence[str],
    network: str,
    v1_network: str | None = None,
    extensions: Sequence[str] = (),
) -> dict[str, Any]:
    """The exact scheme on `network` (v2, CAIP-2) and, when it has one, its v1 name; the first
    fee payer is the one named in `extra.feePayer`, every one is listed under `signers`;
    `extensions` names the extensions the facilitator handles."""
    extra = {"feePayer": fee_payers[0]}
    kinds: list[dict[str, Any]] = []
    if v1_network:
        kinds.append({"x402Version": 1, "scheme": SCHEME, "network": v1_network, "extra": extra})
    kinds.append({"x402Version": 2, "scheme": SCHEME, "network": network, "extra": dict(extra)})
    signers = {"solana:*": list(fee_payers)}
    return {"kinds": kinds, "extensions": list(extensions), "signers": signers}
