"""From chosen PaymentRequirements to a signed x402 payment (v1 or v2 payload): pure, no I/O.

The caller supplies what only the chain knows (mint decimals and token program, a blockhash
when the requirements carry no `extra.recentBlockhash`); `sandbox.payer.chain_facts` fetches
and caches those. The transaction itself is built by `sandbox.protocol.exact_svm.client`; the
names re-exported from it here raise the payer's PaymentBuildError (`payer_errors`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from solders.hash import Hash
from solders.keypair import Keypair
from solders.transaction import VersionedTransaction

from sandbox.payer.errors import PaymentBuildError, payer_errors
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
from sandbox.protocol.errors import BuildError
from sandbox.protocol.exact_svm import client
from sandbox.protocol.exact_svm.client import MintInfo
from sandbox.protocol.payment_identifier import with_payment_id

__all__ = [
    "Payment",
    "blockhash_hint",
    "build_payment",
    "build_transaction",
    "parse_pubkey",
    "payment_instructions",
    "resource_wire",
    "sign_partial",
    "transfer_spec",
    "wrap_transaction",
]

# The exact-SVM client's builders that can refuse, raising PaymentBuildError.
blockhash_hint = payer_errors(client.blockhash_hint)
build_transaction = payer_errors(client.build_transaction)
parse_pubkey = payer_errors(client.parse_pubkey)
payment_instructions = payer_errors(client.payment_instructions)
sign_partial = payer_errors(client.sign_partial)
transfer_spec = payer_errors(client.transfer_spec)


@dataclass(frozen=True)
class Payment:
    """A signed payment ready to send: the payload's JSON object and its transaction."""

    version: int
    wire: dict[str, Any]  # the PaymentPayload as it goes on the wire
    requirements: AnyRequirements
    transaction: VersionedTransaction
    memo: str
    description: str = field(default="", compare=False)  # what a mutation did, if any
    payment_id: str | None = None  # the payment-identifier it carries (v2 only)

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
    payment_id: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload object: v1 `{x402Version, scheme, network, payload}` for v1 requirements,
    v2 `{x402Version, resource, accepted, payload}` (accepted echoes them) otherwise, with
    `extensions["payment-identifier"]` when a payment id is given (v1 cannot carry one).
    extensions: the 402's, echoed (a client includes at least the info it received; the
    facilitator catalogues a route from its echoed `bazaar` declaration)."""
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
    echoed = dict(extensions or {})
    if payment_id is not None:
        echoed = with_payment_id(echoed, payment_id)
    if echoed:
        wire["extensions"] = echoed
    return wire


def build_payment(
    requirements: AnyRequirements,
    owner: Keypair,
    mint: MintInfo,
    blockhash: Hash | str | None = None,
    *,
    resource: ResourceInfo | dict[str, Any] | str | None = None,
    memo: str | bytes | None = None,
    create_ata: bool = False,
    payment_id: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> Payment:
    """Build and sign the payment for `requirements` (v1 or v2 by their type).

    blockhash: None uses `extra.recentBlockhash`; memo: None uses `extra.memo`, else a random
    nonce; resource: the v2 payload's `resource` (the PaymentRequired's, echoed); create_ata:
    create payTo's token account first, rent paid by the fee payer (a merchant that has none
    yet; the facilitator must run `--layout role-based --allow-create-ata`); payment_id: the
    payment-identifier to send (v2 only; ValueError if it breaks the id rule); extensions: the
    402's, echoed in a v2 payload.
    """
    try:
        spec = client.transfer_spec(
            requirements, owner.pubkey(), mint, blockhash, memo, create_ata=create_ata
        )
        transaction = client.build_transaction(spec, owner)
    except BuildError as exc:
        raise PaymentBuildError(*exc.args) from None
    version = 1 if isinstance(requirements, PaymentRequirementsV1) else 2
    if version == 1:
        payment_id = None
    wire = wrap_transaction(transaction, requirements, resource, payment_id, extensions)
    memo_text = spec.memo.decode("utf-8", "replace")
    return Payment(version, wire, requirements, transaction, memo_text, payment_id=payment_id)
