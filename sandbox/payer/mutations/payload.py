"""Mutations of the payload around a correct transaction: the network it names, what v2's
`accepted` echoes, and the protocol versions mixed up."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from solders.pubkey import Pubkey

from sandbox.payer.errors import PaymentBuildError
from sandbox.payer.mutations._build import correct_payment
from sandbox.payer.mutations.transaction import wrong_amount
from sandbox.payer.payment import Payment, resource_wire
from sandbox.protocol import (
    SOLANA_MAINNET,
    SOLANA_TESTNET,
    AnyRequirements,
    PaymentRequirements,
    to_caip2,
    to_v1,
)


def _edit_wire(payment: Payment, wire: dict[str, Any], version: int, description: str) -> Payment:
    return dataclasses.replace(payment, wire=wire, version=version, description=description)


def wrong_network(
    requirements, owner, mint, blockhash=None, *, resource=None, network: str | None = None
) -> Payment:
    """The payload names another network (default: mainnet, or testnet when asked on mainnet),
    spelled in the payload's own version; the transaction itself is correct."""
    payment = correct_payment(requirements, owner, mint, blockhash, resource)
    if network is None:
        other = SOLANA_TESTNET if to_caip2(requirements.network) == SOLANA_MAINNET else None
        network = other or SOLANA_MAINNET
        network = to_v1(network) if payment.version == 1 else network
    wire = copy.deepcopy(payment.wire)
    if payment.version == 1:
        wire["network"] = network
    else:
        wire["accepted"]["network"] = network
    return _edit_wire(payment, wire, payment.version, f"names network {network!r}")


def accepted_mismatch(
    requirements, owner, mint, blockhash=None, *, resource=None, field: str = "amount"
) -> Payment:
    """v2 only: `accepted` differs from the offered requirements in one field (amount: one
    unit less, and the transfer pays that; payTo: another wallet, unused by the transfer)."""
    if not isinstance(requirements, PaymentRequirements):
        raise PaymentBuildError("accepted_mismatch needs v2 requirements")
    if field == "amount":
        lowered = str(max(requirements.atomic_amount - 1, 0))
        edited = requirements.model_copy(update={"amount": lowered})
        payment = wrong_amount(
            requirements, owner, mint, blockhash, resource=resource, amount=int(lowered)
        )
        wire = copy.deepcopy(payment.wire)
        wire["accepted"] = edited.to_wire()
    elif field == "payTo":
        payment = correct_payment(requirements, owner, mint, blockhash, resource)
        wire = copy.deepcopy(payment.wire)
        wire["accepted"]["payTo"] = str(Pubkey.new_unique())
    else:
        raise PaymentBuildError(f"field must be amount or payTo, not {field!r}")
    return _edit_wire(payment, wire, 2, f"echoes requirements with a different {field}")


VERSION_MIXUPS = (
    "v1_payload_for_v2",  # v2 offer answered with a v1 payload (X-PAYMENT)
    "v2_payload_for_v1",  # v1 offer answered with a v2 payload (PAYMENT-SIGNATURE)
    "v2_shape_labelled_v1",  # v2 fields, x402Version 1
    "v1_shape_labelled_v2",  # v1 fields, x402Version 2
    "v1_network_in_v2",  # v2 payload whose accepted.network is the v1 name
)


def _as_v2_requirements(requirements: AnyRequirements) -> PaymentRequirements:
    if isinstance(requirements, PaymentRequirements):
        return requirements
    return PaymentRequirements(
        scheme=requirements.scheme,
        network=to_caip2(requirements.network),
        amount=requirements.max_amount_required,
        asset=requirements.asset,
        pay_to=requirements.pay_to,
        max_timeout_seconds=requirements.max_timeout_seconds,
        extra=requirements.extra,
    )


def version_mixup(
    requirements, owner, mint, blockhash=None, *, resource=None, kind: str = "v1_payload_for_v2"
) -> Payment:
    """Protocol versions mixed up (see VERSION_MIXUPS); the transaction itself is correct."""
    if kind not in VERSION_MIXUPS:
        raise PaymentBuildError(f"kind must be one of {VERSION_MIXUPS}, not {kind!r}")
    payment = correct_payment(requirements, owner, mint, blockhash, resource)
    transaction = payment.transaction_base64
    v2 = _as_v2_requirements(requirements)
    v1_wire = {
        "x402Version": 1,
        "scheme": requirements.scheme,
        "network": to_v1(requirements.network),
        "payload": {"transaction": transaction},
    }
    v2_wire = {"x402Version": 2, "accepted": v2.to_wire(), "payload": {"transaction": transaction}}
    if resource is not None:
        v2_wire["resource"] = resource_wire(resource)
    if kind == "v1_payload_for_v2":
        wire, version = v1_wire, 1
    elif kind == "v2_payload_for_v1":
        wire, version = v2_wire, 2
    elif kind == "v2_shape_labelled_v1":
        wire, version = {**v2_wire, "x402Version": 1}, 1
    elif kind == "v1_shape_labelled_v2":
        wire, version = {**v1_wire, "x402Version": 2}, 2
    else:
        wire = copy.deepcopy(v2_wire)
        wire["accepted"]["network"] = to_v1(requirements.network)
        version = 2
    return _edit_wire(payment, wire, version, kind.replace("_", " "))
