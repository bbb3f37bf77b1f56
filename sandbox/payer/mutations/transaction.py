"""Deliberately broken payments, for facilitator tests, scenarios and attack drills.

Each function takes the same inputs as `build_payment` (requirements, owner keypair, mint facts,
blockhash, optional resource) plus its own knobs, and returns a `Payment` whose `description`
says what is wrong. Everything not named stays exactly as a correct payment would be. `MUTATIONS`
maps a name to each function so a scenario can run them all.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from sandbox.payer.errors import PaymentBuildError
from sandbox.payer.payment import Payment, resource_wire, transfer_spec, wrap_transaction
from sandbox.payer.transaction import (
    MintInfo,
    TransferSpec,
    compile_message,
    memo_instruction,
    payment_instructions,
    random_memo,
    sign_partial,
)
from sandbox.protocol import (
    SOLANA_MAINNET,
    SOLANA_TESTNET,
    AnyRequirements,
    PaymentRequirements,
    PaymentRequirementsV1,
    to_caip2,
    to_v1,
)

__all__ = [
    "INSTRUCTION_NAMES",
    "MUTATIONS",
    "VERSION_MIXUPS",
    "accepted_mismatch",
    "bad_signature",
    "compute_limit_too_high",
    "compute_price_too_high",
    "extra_instruction",
    "fee_payer_as_authority",
    "fee_payer_in_instruction",
    "missing_instruction",
    "reused_memo",
    "stale_blockhash",
    "version_mixup",
    "wrong_amount",
    "wrong_mint",
    "wrong_network",
    "wrong_recipient",
]

INSTRUCTION_NAMES = ("compute_limit", "compute_price", "transfer", "memo")
PRICE_CAP = 5_000_000  # microlamports per unit, the official SDK's cap
UNIT_LIMIT_MAX = 1_400_000  # the runtime's maximum per transaction

Resource = Any


def _version(requirements: AnyRequirements) -> int:
    return 1 if isinstance(requirements, PaymentRequirementsV1) else 2


def _assemble(
    requirements: AnyRequirements,
    spec: TransferSpec,
    instructions: Sequence[Instruction],
    signers: Sequence[Keypair],
    resource: Resource,
    description: str,
    blockhash: Hash | None = None,
) -> Payment:
    message = compile_message(spec.fee_payer, instructions, blockhash or spec.blockhash)
    transaction = sign_partial(message, signers)
    wire = wrap_transaction(transaction, requirements, resource)
    memo = spec.memo.decode("utf-8", "replace")
    return Payment(_version(requirements), wire, requirements, transaction, memo, description)


def _correct(
    requirements: AnyRequirements,
    owner: Keypair,
    mint: MintInfo,
    blockhash: Hash | str | None,
    memo: str | bytes | None = None,
) -> TransferSpec:
    return transfer_spec(requirements, owner.pubkey(), mint, blockhash, memo)


# ---------------------------------------------------------------- transfer contents


def wrong_amount(
    requirements, owner, mint, blockhash=None, *, resource=None, amount: int | None = None
) -> Payment:
    """The transfer moves `amount` (default: one atomic unit less than asked)."""
    spec = _correct(requirements, owner, mint, blockhash)
    asked = spec.amount
    amount = (asked - 1 if asked > 0 else 1) if amount is None else amount
    spec = dataclasses.replace(spec, amount=amount)
    return _assemble(
        requirements,
        spec,
        payment_instructions(spec),
        [owner],
        resource,
        f"transfers {amount} atomic units instead of {asked}",
    )


def wrong_mint(
    requirements, owner, mint, blockhash=None, *, resource=None, other_mint: MintInfo | None = None
) -> Payment:
    """The transfer is of another mint (default: a random address, same decimals and program);
    source and destination are that mint's associated token accounts."""
    spec = _correct(requirements, owner, mint, blockhash)
    other = other_mint or MintInfo(Pubkey.new_unique(), mint.decimals, mint.token_program)
    spec = dataclasses.replace(spec, mint=other)
    return _assemble(
        requirements,
        spec,
        payment_instructions(spec),
        [owner],
        resource,
        f"transfers mint {other.address} instead of {mint.address}",
    )


def wrong_recipient(
    requirements, owner, mint, blockhash=None, *, resource=None, recipient: Pubkey | None = None
) -> Payment:
    """The transfer goes to another wallet's associated token account (default: random)."""
    spec = _correct(requirements, owner, mint, blockhash)
    other = recipient or Pubkey.new_unique()
    spec = dataclasses.replace(spec, pay_to=other)
    return _assemble(
        requirements,
        spec,
        payment_instructions(spec),
        [owner],
        resource,
        f"pays {other}'s token account {spec.destination} instead of {requirements.pay_to}'s",
    )


# ---------------------------------------------------------------- instruction list


def missing_instruction(
    requirements, owner, mint, blockhash=None, *, resource=None, which: str = "memo"
) -> Payment:
    """One of the four instructions left out: compute_limit, compute_price, transfer or memo."""
    if which not in INSTRUCTION_NAMES:
        raise PaymentBuildError(f"which must be one of {INSTRUCTION_NAMES}, not {which!r}")
    spec = _correct(requirements, owner, mint, blockhash)
    instructions = payment_instructions(spec)
    del instructions[INSTRUCTION_NAMES.index(which)]
    signers = [owner] if which != "transfer" else []
    return _assemble(
        requirements, spec, instructions, signers, resource, f"has no {which} instruction"
    )


def extra_instruction(
    requirements, owner, mint, blockhash=None, *, resource=None, kind: str = "memo"
) -> Payment:
    """A fifth instruction appended: a second memo, a second identical TransferChecked, or a
    System transfer of 1 lamport from the owner to payTo (kind: memo | transfer | system)."""
    spec = _correct(requirements, owner, mint, blockhash)
    instructions = payment_instructions(spec)
    if kind == "memo":
        instructions.append(memo_instruction(random_memo()))
    elif kind == "transfer":
        instructions.append(instructions[2])
    elif kind == "system":
        instructions.append(
            transfer(TransferParams(from_pubkey=owner.pubkey(), to_pubkey=spec.pay_to, lamports=1))
        )
    else:
        raise PaymentBuildError(f"kind must be memo, transfer or system, not {kind!r}")
    return _assemble(
        requirements, spec, instructions, [owner], resource, f"has an extra {kind} instruction"
    )


# ---------------------------------------------------------------- fee payer abuse


def fee_payer_as_authority(requirements, owner, mint, blockhash=None, *, resource=None) -> Payment:
    """The transfer's authority (and source) is the fee payer: the facilitator would pay.
    The owner is not in the transaction, so nothing is signed."""
    spec = _correct(requirements, owner, mint, blockhash)
    spec = dataclasses.replace(spec, owner=spec.fee_payer)
    return _assemble(
        requirements,
        spec,
        payment_instructions(spec),
        [],
        resource,
        f"moves funds out of the fee payer {spec.fee_payer}'s token account",
    )


def fee_payer_in_instruction(
    requirements, owner, mint, blockhash=None, *, resource=None, into: str = "memo"
) -> Payment:
    """The fee payer appears in another instruction's accounts: as a required signer of the
    memo (into="memo"), or as an extra read-only account of the TransferChecked ("transfer")."""
    spec = _correct(requirements, owner, mint, blockhash)
    instructions = payment_instructions(spec)
    if into == "memo":
        instructions[3] = memo_instruction(spec.memo, signers=[spec.fee_payer])
    elif into == "transfer":
        ix = instructions[2]
        accounts = [*ix.accounts, AccountMeta(spec.fee_payer, is_signer=False, is_writable=False)]
        instructions[2] = Instruction(ix.program_id, ix.data, accounts)
    else:
        raise PaymentBuildError(f"into must be memo or transfer, not {into!r}")
    return _assemble(
        requirements,
        spec,
        instructions,
        [owner],
        resource,
        f"lists the fee payer in the {into} instruction's accounts",
    )


# ---------------------------------------------------------------- compute budget


def compute_price_too_high(
    requirements, owner, mint, blockhash=None, *, resource=None, price: int = PRICE_CAP + 1
) -> Payment:
    """SetComputeUnitPrice above the cap (default: 5,000,001 microlamports per unit)."""
    spec = dataclasses.replace(_correct(requirements, owner, mint, blockhash), compute_price=price)
    return _assemble(
        requirements,
        spec,
        payment_instructions(spec),
        [owner],
        resource,
        f"sets a compute unit price of {price} microlamports",
    )


def compute_limit_too_high(
    requirements, owner, mint, blockhash=None, *, resource=None, units: int = UNIT_LIMIT_MAX
) -> Payment:
    """SetComputeUnitLimit far above what a transfer needs (default: 1,400,000 units)."""
    spec = dataclasses.replace(_correct(requirements, owner, mint, blockhash), compute_limit=units)
    return _assemble(
        requirements,
        spec,
        payment_instructions(spec),
        [owner],
        resource,
        f"sets a compute unit limit of {units}",
    )


# ---------------------------------------------------------------- blockhash, signature, memo


def stale_blockhash(
    requirements, owner, mint, blockhash=None, *, resource=None, stale: Hash | None = None
) -> Payment:
    """Built on a blockhash the chain no longer (or never) knew (default: a random hash)."""
    old = stale or Hash.new_unique()
    spec = _correct(requirements, owner, mint, old)
    return _assemble(
        requirements,
        spec,
        payment_instructions(spec),
        [owner],
        resource,
        f"uses the stale blockhash {old}",
    )


def bad_signature(
    requirements, owner, mint, blockhash=None, *, resource=None, kind: str = "flipped"
) -> Payment:
    """The owner's signature is wrong: one bit flipped ("flipped"), left all-zero
    ("missing"), or made by another key ("wrong_key")."""
    spec = _correct(requirements, owner, mint, blockhash)
    message = compile_message(spec.fee_payer, payment_instructions(spec), spec.blockhash)
    signed = sign_partial(message, [owner])
    signatures = list(signed.signatures)
    slot = list(message.account_keys).index(owner.pubkey())
    if kind == "flipped":
        raw = bytearray(bytes(signatures[slot]))
        raw[0] ^= 0x01
        signatures[slot] = Signature.from_bytes(bytes(raw))
    elif kind == "missing":
        signatures[slot] = Signature.default()
    elif kind == "wrong_key":
        signatures[slot] = Keypair().sign_message(to_bytes_versioned(message))
    else:
        raise PaymentBuildError(f"kind must be flipped, missing or wrong_key, not {kind!r}")
    transaction = VersionedTransaction.populate(message, signatures)
    wire = wrap_transaction(transaction, requirements, resource)
    return Payment(
        _version(requirements),
        wire,
        requirements,
        transaction,
        spec.memo.decode(),
        f"carries a {kind.replace('_', ' ')} owner signature",
    )


def reused_memo(
    requirements, owner, mint, blockhash=None, *, resource=None, memo: str | bytes
) -> Payment:
    """A new payment carrying the memo (nonce) of an earlier one: a replay of its identity."""
    spec = _correct(requirements, owner, mint, blockhash, memo)
    return _assemble(
        requirements,
        spec,
        payment_instructions(spec),
        [owner],
        resource,
        f"reuses the memo {spec.memo.decode('utf-8', 'replace')!r}",
    )


# ---------------------------------------------------------------- the payload around it


def _edit_wire(payment: Payment, wire: dict[str, Any], version: int, description: str) -> Payment:
    return dataclasses.replace(payment, wire=wire, version=version, description=description)


def _correct_payment(requirements, owner, mint, blockhash, resource) -> Payment:
    spec = _correct(requirements, owner, mint, blockhash)
    return _assemble(requirements, spec, payment_instructions(spec), [owner], resource, "")


def wrong_network(
    requirements, owner, mint, blockhash=None, *, resource=None, network: str | None = None
) -> Payment:
    """The payload names another network (default: mainnet, or testnet when asked on mainnet),
    spelled in the payload's own version; the transaction itself is correct."""
    payment = _correct_payment(requirements, owner, mint, blockhash, resource)
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
        payment = _correct_payment(requirements, owner, mint, blockhash, resource)
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
    payment = _correct_payment(requirements, owner, mint, blockhash, resource)
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


Mutation = Callable[..., Payment]

MUTATIONS: dict[str, Mutation] = {
    "wrong_amount": wrong_amount,
    "wrong_mint": wrong_mint,
    "wrong_recipient": wrong_recipient,
    "missing_instruction": missing_instruction,
    "extra_instruction": extra_instruction,
    "fee_payer_as_authority": fee_payer_as_authority,
    "fee_payer_in_instruction": fee_payer_in_instruction,
    "compute_price_too_high": compute_price_too_high,
    "compute_limit_too_high": compute_limit_too_high,
    "stale_blockhash": stale_blockhash,
    "bad_signature": bad_signature,
    "reused_memo": reused_memo,
    "wrong_network": wrong_network,
    "accepted_mismatch": accepted_mismatch,
    "version_mixup": version_mixup,
}
