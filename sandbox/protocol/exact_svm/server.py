"""The exact scheme on Solana, server role: what a paid server offers, pure and without I/O.

    requirements_v2(...)        one entry of a v2 `accepts` (PaymentRequirements)
    requirements_v1(...)        one entry of a v1 `accepts` (PaymentRequirementsV1)
    payment_required_v2(...)    the v2 402 challenge, sent in the PAYMENT-REQUIRED header
    payment_required_v1(...)    the v1 402 challenge, sent as the JSON body
    fee_payer_of(supported, …)  the facilitator's fee payer for this scheme and network

The builders return plain dicts, ready for orjson: they run on every paid request, and building
a model only to dump it again costs more than the dict. Each is checked against its model in
sandbox/protocol/models.py by tests/protocol/test_exact_svm_server.py.

The exact-SVM `extra` of a requirement carries two fields: `feePayer`, the facilitator's key that
pays the fee and must sign first, and `memo`, the server's per-challenge nonce the transaction
must carry (it binds the payment to the request; see sandbox/server/binding.py). A server that
binds no memo (`--route-binding none`) passes `memo=None`: `extra` then holds `feePayer` alone.
"""

from __future__ import annotations

from typing import Any

from sandbox.protocol.exact_svm.transaction import SCHEME
from sandbox.protocol.models import SupportedResponse

__all__ = [
    "fee_payer_of",
    "payment_required_v1",
    "payment_required_v2",
    "requirements_v1",
    "requirements_v2",
]


def requirements_v2(
    *,
    network: str,
    amount: int,
    asset: str,
    pay_to: str,
    max_timeout_seconds: int,
    fee_payer: str | None,
    memo: str | None,
) -> dict[str, Any]:
    """One v2 requirement; `network` in CAIP-2 form, `amount` in atomic units."""
    return {
        "scheme": SCHEME,
        "network": network,
        "amount": str(amount),
        "asset": asset,
        "payTo": pay_to,
        "maxTimeoutSeconds": max_timeout_seconds,
        "extra": _extra(fee_payer, memo),
    }


def requirements_v1(
    *,
    network: str,
    amount: int,
    resource: str,
    description: str,
    mime_type: str,
    pay_to: str,
    max_timeout_seconds: int,
    asset: str,
    fee_payer: str | None,
    memo: str | None,
) -> dict[str, Any]:
    """One v1 requirement; `network` in v1 form ("solana-devnet"), `resource` the full URL."""
    return {
        "scheme": SCHEME,
        "network": network,
        "maxAmountRequired": str(amount),
        "resource": resource,
        "description": description,
        "mimeType": mime_type,
        "payTo": pay_to,
        "maxTimeoutSeconds": max_timeout_seconds,
        "asset": asset,
        "extra": _extra(fee_payer, memo),
    }


def _extra(fee_payer: str | None, memo: str | None) -> dict[str, Any]:
    return {"feePayer": fee_payer} if memo is None else {"feePayer": fee_payer, "memo": memo}


def payment_required_v2(
    *,
    error: str,
    url: str,
    description: str,
    mime_type: str,
    accepts: list[dict[str, Any]],
    extensions: dict[str, Any] | None = None,
    resource_metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The v2 challenge (PaymentRequired): `error` says why, `accepts` what would be paid,
    `extensions` what the route declares (left out when none), `resource_metadata` the bazaar
    provider fields of `resource` (serviceName, tags)."""
    resource = {"url": url, "description": description, "mimeType": mime_type}
    required = {
        "x402Version": 2,
        "error": error,
        "resource": {**resource, **(resource_metadata or {})},
        "accepts": accepts,
    }
    if extensions:
        required["extensions"] = extensions
    return required


def payment_required_v1(
    *, error: str, message: str, accepts: list[dict[str, Any]]
) -> dict[str, Any]:
    """The v1 challenge (PaymentRequiredV1), plus a human `message` (an extra field)."""
    return {"x402Version": 1, "error": error, "message": message, "accepts": accepts}


def fee_payer_of(supported: SupportedResponse, networks: tuple[str, ...]) -> str | None:
    """The `extra.feePayer` of the first exact kind on one of `networks`, else None."""
    for kind in supported.kinds:
        if kind.scheme == SCHEME and kind.network in networks:
            fee_payer = (kind.extra or {}).get("feePayer")
            if isinstance(fee_payer, str) and fee_payer:
                return fee_payer
    return None
