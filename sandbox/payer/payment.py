"""From chosen PaymentRequirements to a signed x402 payment (v1 or v2 payload): pure, no I/O.

The caller supplies what only the chain knows (mint decimals and token program, a blockhash
when the requirements carry no `extra.recentBlockhash`); `sandbox.payer.chain_facts` fetches
and caches those.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from solders.hash import Hash, ParseHashError
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from sandbox.payer.errors import PaymentBuildError
from sandbox.payer.transaction import (
    COMPUTE_UNIT_LIMIT,
    COMPUTE_UNIT_PRICE_MICROLAMPORTS,
    MintInfo,
    TransferSpec,
    build_transaction,
    memo_bytes,
    random_memo,
)
from sandbox.protocol import (
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    AnyPayload,
    AnyRequirements,
    PaymentRequirementsV1,
    ResourceInfo,
    encode_json_header,
    payload_from_dict,
)

__all__ = [
    "Payment",
    "blockhash_hint",
    "build_payment",
    "parse_pubkey",
    "resource_wire",
    "transfer_spec",
    "wrap_transaction",
]


@dataclass(frozen=True)
class Payment:
    """A signed payment ready to send: the payload's JSON object and its transaction."""

    version: int
    wire: dict[str, Any]  # the PaymentPayload as it goes on the wire
    requirements: AnyRequirements
    transaction: VersionedTransaction
    memo: str
    description: str = field(default="", compare=False)  # what a mutation did, if any

    @property
    def header_name(self) -> str:
        return PAYMENT_SIGNATURE if self.version == 2 else X_PAYMENT

    @cached_property
    def header_value(self) -> str:
        return encode_json_header(self.wire)

    @property
    def headers(self) -> dict[str, str]:
        return {self.header_name: self.header_value}

    @property
    def transaction_base64(self) -> str:
        return self.wire["payload"]["transaction"]

    @property
    def payload(self) -> AnyPayload:
        """The wire object parsed with the protocol models (raises ProtocolError if malformed)."""
        return payload_from_dict(self.wire)

    @property
    def payer(self) -> str:
        """The wallet that signed (the transfer authority of a well-formed payment)."""
        return str(self.transaction.message.account_keys[1 if self.signer_count > 1 else 0])

    @property
    def signer_count(self) -> int:
        return self.transaction.message.header.num_required_signatures

    def facilitator_body(self) -> dict[str, Any]:
        """The body of POST /verify and /settle for this payment."""
        return {
            "x402Version": self.version,
            "paymentPayload": self.wire,
            "paymentRequirements": self.requirements.to_wire(),
        }


def parse_pubkey(value: Any, what: str) -> Pubkey:
    if not isinstance(value, str):
        raise PaymentBuildError(f"{what} is missing or not a string")
    try:
        return Pubkey.from_string(value)
    except ValueError:
        raise PaymentBuildError(f"{what} {value!r} is not a base58 Solana address") from None


def blockhash_hint(requirements: AnyRequirements) -> Hash | None:
    """`extra.recentBlockhash` when the server supplied one (saves an RPC call)."""
    value = (requirements.extra or {}).get("recentBlockhash")
    if not isinstance(value, str):
        return None
    try:
        return Hash.from_string(value)
    except (ValueError, ParseHashError):
        raise PaymentBuildError(f"extra.recentBlockhash {value!r} is not a base58 hash") from None


def _as_hash(value: Hash | str) -> Hash:
    if isinstance(value, Hash):
        return value
    try:
        return Hash.from_string(value)
    except (ValueError, ParseHashError):
        raise PaymentBuildError(f"blockhash {value!r} is not a base58 hash") from None


def resource_wire(resource: ResourceInfo | dict[str, Any] | str | None) -> dict[str, Any] | None:
    if resource is None:
        return None
    if isinstance(resource, str):
        return {"url": resource}
    if isinstance(resource, ResourceInfo):
        return resource.to_wire()
    return dict(resource)


def wrap_transaction(
    transaction: VersionedTransaction | bytes,
    requirements: AnyRequirements,
    resource: ResourceInfo | dict[str, Any] | str | None = None,
) -> dict[str, Any]:
    """The payload object: v1 `{x402Version, scheme, network, payload}` for v1 requirements,
    v2 `{x402Version, resource, accepted, payload}` (accepted echoes them) otherwise."""
    encoded = base64.b64encode(bytes(transaction)).decode("ascii")
    if isinstance(requirements, PaymentRequirementsV1):
        return {
            "x402Version": 1,
            "scheme": requirements.scheme,
            "network": requirements.network,
            "payload": {"transaction": encoded},
        }
    wire: dict[str, Any] = {"x402Version": 2}
    resource_object = resource_wire(resource)
    if resource_object is not None:
        wire["resource"] = resource_object
    wire["accepted"] = requirements.to_wire()
    wire["payload"] = {"transaction": encoded}
    return wire


def transfer_spec(
    requirements: AnyRequirements,
    owner: Pubkey,
    mint: MintInfo,
    blockhash: Hash | str | None = None,
    memo: str | bytes | None = None,
    compute_limit: int = COMPUTE_UNIT_LIMIT,
    compute_price: int = COMPUTE_UNIT_PRICE_MICROLAMPORTS,
) -> TransferSpec:
    """Check the requirements and turn them into the facts of one transfer."""
    if requirements.scheme != "exact":
        raise PaymentBuildError(f"scheme {requirements.scheme!r} is not supported (only 'exact')")
    extra = requirements.extra or {}
    if "feePayer" not in extra:
        raise PaymentBuildError("requirements carry no extra.feePayer (the facilitator's key)")
    fee_payer = parse_pubkey(extra["feePayer"], "extra.feePayer")
    pay_to = parse_pubkey(requirements.pay_to, "payTo")
    asset = parse_pubkey(requirements.asset, "asset")
    if asset != mint.address:
        raise PaymentBuildError(f"mint facts are for {mint.address}, the asset is {asset}")
    if blockhash is None:
        blockhash = blockhash_hint(requirements)
        if blockhash is None:
            raise PaymentBuildError("no blockhash: pass one or put extra.recentBlockhash")
    if memo is None:
        server_memo = extra.get("memo")
        memo_data = memo_bytes(server_memo) if isinstance(server_memo, str) else random_memo()
    else:
        memo_data = memo if isinstance(memo, bytes) else memo_bytes(memo)
    return TransferSpec(
        owner=owner,
        fee_payer=fee_payer,
        pay_to=pay_to,
        mint=mint,
        amount=requirements.atomic_amount,
        memo=memo_data,
        blockhash=_as_hash(blockhash),
        compute_limit=compute_limit,
        compute_price=compute_price,
    )


def build_payment(
    requirements: AnyRequirements,
    owner: Keypair,
    mint: MintInfo,
    blockhash: Hash | str | None = None,
    *,
    resource: ResourceInfo | dict[str, Any] | str | None = None,
    memo: str | bytes | None = None,
) -> Payment:
    """Build and sign the payment for `requirements` (v1 or v2 by their type).

    blockhash: None uses `extra.recentBlockhash`; memo: None uses `extra.memo`, else a random
    nonce; resource: the v2 payload's `resource` (the PaymentRequired's, echoed).
    """
    spec = transfer_spec(requirements, owner.pubkey(), mint, blockhash, memo)
    transaction = build_transaction(spec, owner)
    version = 1 if isinstance(requirements, PaymentRequirementsV1) else 2
    wire = wrap_transaction(transaction, requirements, resource)
    return Payment(version, wire, requirements, transaction, spec.memo.decode("utf-8", "replace"))
