"""Exact-SVM payment checks as pure functions (reference section 3), simulation excepted.

`check_payment(request, policy)` answers either a `CheckedPayment` (every static rule holds; the
caller still simulates it) or a `Rejection` (reason + a human message). Failures are values;
nothing here raises on client input and nothing does I/O. The transaction is decoded once.

Order of the checks (the first failure is the answer):
  scheme, network, accepted == requirements (v2), requirement fields, feePayer named and managed,
  transaction decodes, fee payer is account 0, no address lookup tables, then the layout:
    positional (the default, as the spec text and the published SDKs): instruction count,
      compute limit and price (with caps), one TransferChecked, only Memo/Lighthouse after it;
    role-based (`layout="role-based"`, layouts.py check_roles): the same by role, Lighthouse
      anywhere, allow-listed preflight/postflight, the create-ATA and each of its pins;
  fee-payer isolation, signers, mint, recipient, amount, memo rules (layouts.py check_memos),
  client signatures.
Each reason's comment in `sandbox/protocol/reasons.py` names the function that answers it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol import reasons
from sandbox.protocol.errors import ProtocolError, short_repr
from sandbox.protocol.exact_svm import transaction as ixs
from sandbox.protocol.exact_svm.layouts import (
    Layout,
    Rejection,
    check_create_ata,
    check_memos,
    check_roles,
)
from sandbox.protocol.exact_svm.transaction import (
    DEFAULT_MAX_COMPUTE_UNIT_LIMIT,
    DEFAULT_MAX_COMPUTE_UNIT_PRICE,
    DEFAULT_MAX_INSTRUCTIONS,
    MIN_INSTRUCTIONS,
    SCHEME,
    TransferChecked,
    decode_transaction,
    payment_identity,
)
from sandbox.protocol.models import FacilitatorRequest, FacilitatorRequestV1
from sandbox.protocol.networks import same_network
from sandbox.protocol.programs import associated_token_address

__all__ = [
    "DEFAULT_MAX_COMPUTE_UNIT_LIMIT",
    "DEFAULT_MAX_COMPUTE_UNIT_PRICE",
    "AmountPolicy",
    "CheckedPayment",
    "Layout",
    "Rejection",
    "VerifyPolicy",
    "check_payment",
]

AmountPolicy = Literal["exact", "at-least"]


@dataclass(frozen=True)
class VerifyPolicy:
    """What this facilitator accepts; built once from the settings."""

    fee_payers: frozenset[Pubkey]
    network: str  # CAIP-2 id learned from the chain
    amount_policy: AmountPolicy = "exact"
    max_compute_unit_limit: int = DEFAULT_MAX_COMPUTE_UNIT_LIMIT
    max_compute_unit_price: int = DEFAULT_MAX_COMPUTE_UNIT_PRICE
    min_instructions: int = MIN_INSTRUCTIONS
    max_instructions: int = DEFAULT_MAX_INSTRUCTIONS
    bugs: frozenset[str] = frozenset()  # deliberate bugs (facilitator/bugs.py); empty unless asked
    layout: Layout = "positional"  # or "role-based" (layouts.py)
    preflight_allow: frozenset[Pubkey] = frozenset()  # programs allowed before the payment
    postflight_allow: frozenset[Pubkey] = frozenset()  # programs allowed after it
    allow_create_ata: bool = False  # a create-ATA of payTo funded by the fee payer (role-based)


@dataclass(frozen=True)
class CheckedPayment:
    """A payment that passed every static rule, with what settlement and the ledger need."""

    transaction: VersionedTransaction
    message_bytes: bytes
    message_hash: bytes  # payment_identity: SHA-256 of the message (signatures are mutable)
    fee_payer: Pubkey
    payer: Pubkey  # the transfer authority: the client wallet
    transfer: TransferChecked
    memo: bytes | None
    network: str
    amount: int = field(default=0)
    transfer_index: int = 2  # where the TransferChecked sits (the role-based layout moves it)
    created_account: Pubkey | None = None  # the account its create-ATA makes (fee payer's rent)

    @property
    def nonce_key(self) -> bytes | None:
        """The client's memo nonce, scoped to its wallet, so a reuse by anyone else is no grief."""
        if self.memo is None:
            return None
        return hashlib.sha256(bytes(self.payer) + b"\x00" + self.memo).digest()

    @property
    def recent_blockhash(self) -> str:
        return str(self.transaction.message.recent_blockhash)


def _pubkey(value: object) -> Pubkey | None:
    if not isinstance(value, str) or not 32 <= len(value) <= 44:
        return None
    try:
        return Pubkey.from_string(value)
    except ValueError:
        return None


# Hints a server may re-fetch for every 402 (the SDK middleware does): not terms of payment.
_HINTS = ("recentBlockhash", "lastValidBlockHeight")


def _terms(requirements: dict) -> dict:
    extra = requirements.get("extra")
    if isinstance(extra, dict) and any(hint in extra for hint in _HINTS):
        extra = {k: v for k, v in extra.items() if k not in _HINTS}
        requirements = {**requirements, "extra": extra}
    return requirements


def _first_difference(a: dict, b: dict, prefix: str = "") -> str:
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key), b.get(key)
        if left != right:
            if isinstance(left, dict) and isinstance(right, dict):
                return _first_difference(left, right, f"{prefix}{key}.")
            return f"{prefix}{key}: accepted {short_repr(left)}, required {short_repr(right)}"
    return "(none)"


# Schemes of the x402 specs this facilitator knows and cannot run, and why.
_UNRUNNABLE = {
    scheme: f": '{scheme}' on Solana settles through an on-chain program the sandbox does not ship"
    for scheme in ("upto", "batch-settlement")
}


def _check_envelope(
    request: FacilitatorRequest | FacilitatorRequestV1, policy: VerifyPolicy
) -> Rejection | None:
    """Scheme, network, and (v2) that the payload accepted exactly what is required."""
    req = request.payment_requirements
    payload = request.payment_payload
    pay_scheme = (
        payload.accepted.scheme if isinstance(request, FacilitatorRequest) else (payload.scheme)
    )
    pay_network = (
        payload.accepted.network if isinstance(request, FacilitatorRequest) else (payload.network)
    )
    for what, scheme in (("paymentRequirements", req.scheme), ("paymentPayload", pay_scheme)):
        if scheme != SCHEME:
            why = _UNRUNNABLE.get(scheme, "")
            return Rejection(
                reasons.UNSUPPORTED_SCHEME,
                f"{what} scheme {short_repr(scheme)} is not supported{why} (only 'exact' is)",
            )
    if "skip-network-check" in policy.bugs:
        pass
    elif not same_network(req.network, policy.network):
        return Rejection(
            reasons.NETWORK_MISMATCH,
            f"paymentRequirements network {short_repr(req.network)} is not this facilitator's "
            f"network {policy.network!r}",
        )
    elif not same_network(pay_network, req.network):
        return Rejection(
            reasons.NETWORK_MISMATCH,
            f"paymentPayload network {short_repr(pay_network)} differs from paymentRequirements "
            f"network {short_repr(req.network)}",
        )
    if isinstance(request, FacilitatorRequest):
        accepted = _terms(payload.accepted.to_wire())
        required = _terms(req.to_wire())
        if accepted != required:
            return Rejection(
                reasons.INVALID_PAYMENT_REQUIREMENTS,
                "paymentPayload.accepted differs from paymentRequirements: "
                + _first_difference(accepted, required),
            )
    return None


def check_payment(
    request: FacilitatorRequest | FacilitatorRequestV1, policy: VerifyPolicy
) -> CheckedPayment | Rejection:
    """Every static exact-SVM rule; see the module docstring for the order."""
    rejection = _check_envelope(request, policy)
    if rejection:
        return rejection
    req = request.payment_requirements
    asset = _pubkey(req.asset)
    if asset is None:
        return Rejection(
            reasons.INVALID_PAYMENT_REQUIREMENTS,
            f"paymentRequirements.asset {short_repr(req.asset)} is not a Solana address",
        )
    pay_to = _pubkey(req.pay_to)
    if pay_to is None:
        return Rejection(
            reasons.INVALID_PAYMENT_REQUIREMENTS,
            f"paymentRequirements.payTo {short_repr(req.pay_to)} is not a Solana address",
        )
    required_amount = req.atomic_amount
    named_fee_payer = (req.extra or {}).get("feePayer")
    if named_fee_payer is None:
        return Rejection(
            reasons.SVM_MISSING_FEE_PAYER, "paymentRequirements.extra.feePayer is missing"
        )
    fee_payer = _pubkey(named_fee_payer)
    if fee_payer is None or fee_payer not in policy.fee_payers:
        return Rejection(
            reasons.FEE_PAYER_NOT_MANAGED,
            f"extra.feePayer {short_repr(named_fee_payer)} is not one of this facilitator's fee "
            "payers (see GET /supported)",
        )

    try:
        tx = decode_transaction(request.payment_payload.payload.get("transaction"))
    except ProtocolError as exc:
        return Rejection(exc.reason, exc.message)
    message = tx.message
    keys = list(message.account_keys)
    if keys[0] != fee_payer:
        return Rejection(
            reasons.FEE_PAYER_NOT_MANAGED,
            f"the transaction's fee payer (account 0) is {keys[0]}, not extra.feePayer {fee_payer}",
        )
    if isinstance(message, MessageV0) and message.address_table_lookups:
        return Rejection(
            reasons.SVM_ADDRESS_LOOKUP_TABLES,
            "the transaction uses address lookup tables; this facilitator only accepts "
            "transactions whose accounts are all listed in the message",
        )
    roles = created = None  # created: the create-ATA's index: its funder is the fee payer, pinned
    if policy.layout == "role-based":
        roles = check_roles(message.instructions, keys, policy)
        if isinstance(roles, Rejection):
            return roles
        transfer, memos, created = roles.transfer, roles.memos, roles.create_ata_index
        if created is not None and "skip-instruction-checks" not in policy.bugs:
            ix = message.instructions[created]
            rejection = check_create_ata(ix, keys, transfer, fee_payer, asset, pay_to)
            if rejection:
                return rejection
    else:
        rejection, transfer, memos = _check_instructions(message.instructions, keys, policy)
        if rejection:
            return rejection
    rejection = _check_fee_payer_isolation(message.instructions, keys, transfer, policy, created)
    if rejection and "skip-fee-payer-isolation" not in policy.bugs:
        return rejection
    rejection = _check_signers(message, keys, fee_payer, transfer.authority)
    if rejection:
        return rejection
    if transfer.mint != asset and "skip-mint-check" not in policy.bugs:
        return Rejection(
            reasons.SVM_MINT_MISMATCH,
            f"the transfer moves mint {transfer.mint}, the requirements ask for {asset}",
        )
    expected_destination = associated_token_address(pay_to, asset, transfer.program)
    if transfer.destination != expected_destination and "skip-recipient-check" not in policy.bugs:
        return Rejection(
            reasons.SVM_RECIPIENT_MISMATCH,
            f"the transfer pays token account {transfer.destination}, not {expected_destination} "
            f"(the associated token account of payTo {pay_to})",
        )
    rejection = _check_amount(transfer.amount, required_amount, policy.amount_policy)
    if rejection and "skip-amount-check" not in policy.bugs:
        return rejection
    rejection, memo = check_memos(memos, req.extra or {}, policy.layout == "role-based")
    if rejection:
        return rejection
    message_bytes = to_bytes_versioned(message)
    rejection = _check_signatures(tx, keys, message_bytes)
    if rejection and "skip-signature-check" not in policy.bugs:
        return rejection
    return CheckedPayment(
        transaction=tx,
        message_bytes=message_bytes,
        message_hash=payment_identity(message_bytes),
        fee_payer=fee_payer,
        payer=transfer.authority,
        transfer=transfer,
        memo=memo,
        network=req.network,
        amount=transfer.amount,
        transfer_index=2 if roles is None else roles.transfer_index,
        created_account=None if created is None else transfer.destination,
    )


def _check_instructions(instructions, keys, policy: VerifyPolicy):
    """Count, compute budget first, the transfer third, only memo/Lighthouse after it.

    Answers (rejection, None, None) or (None, transfer, memos)."""
    count = len(instructions)
    if not policy.min_instructions <= count <= policy.max_instructions:
        return _refused(
            reasons.SVM_INSTRUCTIONS_LENGTH,
            f"the transaction has {count} instructions; an exact payment has "
            f"{policy.min_instructions} to {policy.max_instructions}",
        )
    limit = ixs.compute_unit_limit(instructions[0], keys)
    if limit is None:
        return _refused(
            reasons.SVM_COMPUTE_LIMIT_INSTRUCTION,
            "the first instruction must be ComputeBudget SetComputeUnitLimit",
        )
    if limit > policy.max_compute_unit_limit:
        return _refused(
            reasons.SVM_COMPUTE_LIMIT_TOO_HIGH,
            f"compute unit limit {limit} exceeds this facilitator's cap of "
            f"{policy.max_compute_unit_limit}",
        )
    price = ixs.compute_unit_price(instructions[1], keys)
    if price is None:
        return _refused(
            reasons.SVM_COMPUTE_PRICE_INSTRUCTION,
            "the second instruction must be ComputeBudget SetComputeUnitPrice",
        )
    if price > policy.max_compute_unit_price:
        return _refused(
            reasons.SVM_COMPUTE_PRICE_TOO_HIGH,
            f"compute unit price {price} microlamports exceeds this facilitator's cap of "
            f"{policy.max_compute_unit_price}",
        )
    transfer = ixs.transfer_checked(instructions[2], keys)
    if transfer is None:
        return _refused(
            reasons.SVM_NO_TRANSFER_INSTRUCTION,
            "the third instruction must be a TransferChecked of SPL Token or Token-2022 "
            "with its four accounts (source, mint, destination, owner)",
        )
    memos = []
    for index in range(3, count):
        ix = instructions[index]
        if not ixs.is_trailing_allowed(ix, keys) and "skip-instruction-checks" not in policy.bugs:
            # by position from the reasons' table; past it, the instruction-count reason
            return _refused(
                reasons.unknown_instruction(index),
                f"the {ixs.ordinal(index)} instruction calls {ixs.program_of(ix, keys)}; only "
                "Memo and Lighthouse may follow the transfer",
            )
        if ixs.is_memo(ix, keys):
            memos.append(ix.data)
    return None, transfer, memos


def _refused(reason: str, message: str):
    return Rejection(reason, message), None, None


def _check_fee_payer_isolation(instructions, keys, transfer, policy: VerifyPolicy, created=None):
    """No managed fee payer may be touched by any instruction: it only pays fees and signs (and
    funds the pinned create-ATA at index `created`, its account 0)."""
    managed = policy.fee_payers
    for who, key in (("authority", transfer.authority), ("source", transfer.source)):
        if key in managed:
            return Rejection(
                reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS,
                f"the transfer {who} is the facilitator's fee payer {key}",
            )
    for fee_payer in managed:
        if transfer.source == associated_token_address(fee_payer, transfer.mint, transfer.program):
            return Rejection(
                reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS,
                f"the transfer source is the token account of the facilitator's fee payer "
                f"{fee_payer}",
            )
    for position, ix in enumerate(instructions):
        accounts = bytes(ix.accounts)
        touched = [
            keys[i] for i in (accounts[1:] if position == created else accounts) if i < len(keys)
        ]
        touched.append(keys[ix.program_id_index])
        for key in touched:
            if key in managed:
                return Rejection(
                    reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS,
                    f"the {ixs.ordinal(position)} instruction uses the facilitator's fee payer "
                    f"{key} as an account",
                )
    return None


def _check_signers(message, keys, fee_payer: Pubkey, authority: Pubkey):
    required = message.header.num_required_signatures
    signers = keys[:required]
    extra = [key for key in signers if key not in (fee_payer, authority)]
    if extra or required > 2:
        named = f" (extra: {', '.join(map(str, extra))})" if extra else ""
        return Rejection(
            reasons.SVM_EXCESSIVE_SIGNERS,
            f"the transaction requires {required} signers; only the client ({authority}) and "
            f"the fee payer may sign{named}",
        )
    if authority not in signers:
        return Rejection(
            reasons.SVM_SIGNATURE_INVALID,
            f"the transfer authority {authority} is not a signer of the transaction",
        )
    return None


def _check_amount(paid: int, required: int, policy: AmountPolicy) -> Rejection | None:
    if paid < required:
        return Rejection(
            reasons.SVM_AMOUNT_INSUFFICIENT,
            f"the transfer pays {paid} atomic units, the requirements ask for {required}",
        )
    if paid != required and policy == "exact":
        return Rejection(
            reasons.SVM_AMOUNT_MISMATCH,
            f"the transfer pays {paid} atomic units; this facilitator requires exactly "
            f"{required} (amount policy 'exact')",
        )
    return None


def _check_signatures(tx: VersionedTransaction, keys, message_bytes: bytes):
    """Every required signature except the fee payer's (slot 0, ours to fill) must verify."""
    signatures = tx.signatures
    for index in range(1, len(signatures)):
        signature: Signature = signatures[index]
        if not signature.verify(keys[index], message_bytes):
            return Rejection(
                reasons.SVM_SIGNATURE_INVALID,
                f"the signature of {keys[index]} does not verify against the message",
            )
    return None
