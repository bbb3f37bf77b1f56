"""Mutations of the transaction: its transfer, its instruction list, the fee payer's place in
it, the compute budget, the blockhash, the owner's signature and the memo."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from sandbox.payer.errors import PaymentBuildError
from sandbox.payer.mutations._build import assemble, spec_for, version_of
from sandbox.payer.payment import Payment, payment_instructions, sign_partial, wrap_transaction
from sandbox.protocol.exact_svm.client import (
    PAYMENT_INSTRUCTIONS,
    MintInfo,
    compile_message,
    memo_instruction,
    random_memo,
)
from sandbox.protocol.exact_svm.transaction import (
    DEFAULT_MAX_COMPUTE_UNIT_PRICE,
    RUNTIME_MAX_COMPUTE_UNIT_LIMIT,
)
from sandbox.protocol.programs import LIGHTHOUSE_PROGRAM_ID

INSTRUCTION_NAMES = PAYMENT_INSTRUCTIONS  # compute_limit, compute_price, transfer, memo
LIGHTHOUSE_GUARD = b"\x00"  # a Lighthouse instruction's data here: one byte, no accounts
PRICE_CAP = DEFAULT_MAX_COMPUTE_UNIT_PRICE  # microlamports per unit, the official SDK's cap
UNIT_LIMIT_MAX = RUNTIME_MAX_COMPUTE_UNIT_LIMIT  # the runtime's maximum per transaction


# ---------------------------------------------------------------- transfer contents


def wrong_amount(
    requirements, owner, mint, blockhash=None, *, resource=None, amount: int | None = None
) -> Payment:
    """The transfer moves `amount` (default: one atomic unit less than asked)."""
    spec = spec_for(requirements, owner, mint, blockhash)
    asked = spec.amount
    amount = (asked - 1 if asked > 0 else 1) if amount is None else amount
    spec = dataclasses.replace(spec, amount=amount)
    return assemble(
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
    spec = spec_for(requirements, owner, mint, blockhash)
    other = other_mint or MintInfo(Pubkey.new_unique(), mint.decimals, mint.token_program)
    spec = dataclasses.replace(spec, mint=other)
    return assemble(
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
    spec = spec_for(requirements, owner, mint, blockhash)
    other = recipient or Pubkey.new_unique()
    spec = dataclasses.replace(spec, pay_to=other)
    return assemble(
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
    spec = spec_for(requirements, owner, mint, blockhash)
    instructions = payment_instructions(spec)
    del instructions[INSTRUCTION_NAMES.index(which)]
    signers = [owner] if which != "transfer" else []
    return assemble(
        requirements, spec, instructions, signers, resource, f"has no {which} instruction"
    )


def extra_instruction(
    requirements, owner, mint, blockhash=None, *, resource=None, kind: str = "memo"
) -> Payment:
    """A fifth instruction appended: a second memo, a second identical TransferChecked, or a
    System transfer of 1 lamport from the owner to payTo (kind: memo | transfer | system)."""
    spec = spec_for(requirements, owner, mint, blockhash)
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
    return assemble(
        requirements, spec, instructions, [owner], resource, f"has an extra {kind} instruction"
    )


def lighthouse_instruction(
    requirements,
    owner,
    mint,
    blockhash=None,
    *,
    resource=None,
    index: int = 4,
    data: bytes = LIGHTHOUSE_GUARD,
) -> Payment:
    """A Lighthouse instruction (the guard wallets such as Phantom add; no accounts) inserted at
    `index` of the four payment instructions (default 4: after the memo, where wallets put it)."""
    if not 0 <= index <= len(INSTRUCTION_NAMES):
        raise PaymentBuildError(f"index must be 0 to {len(INSTRUCTION_NAMES)}, not {index}")
    spec = spec_for(requirements, owner, mint, blockhash)
    instructions = payment_instructions(spec)
    instructions.insert(index, Instruction(LIGHTHOUSE_PROGRAM_ID, data, []))
    return assemble(
        requirements,
        spec,
        instructions,
        [owner],
        resource,
        f"has a Lighthouse instruction at index {index}",
    )


def flight_instructions(
    requirements,
    owner,
    mint,
    blockhash=None,
    *,
    resource=None,
    before: Sequence[Instruction] = (),
    after: Sequence[Instruction] = (),
) -> Payment:
    """The payment between instructions of other programs: `before` ahead of its compute limit
    (a preflight), `after` behind its memo (a postflight). Signed by the owner only."""
    spec = spec_for(requirements, owner, mint, blockhash)
    instructions = [*before, *payment_instructions(spec), *after]
    named = ", ".join(str(ix.program_id) for ix in (*before, *after)) or "nothing"
    return assemble(
        requirements,
        spec,
        instructions,
        [owner],
        resource,
        f"has {len(before)} instruction(s) before and {len(after)} after the payment ({named})",
    )


# ---------------------------------------------------------------- fee payer abuse


def fee_payer_as_authority(requirements, owner, mint, blockhash=None, *, resource=None) -> Payment:
    """The transfer's authority (and source) is the fee payer: the facilitator would pay.
    The owner is not in the transaction, so nothing is signed."""
    spec = spec_for(requirements, owner, mint, blockhash)
    spec = dataclasses.replace(spec, owner=spec.fee_payer)
    return assemble(
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
    spec = spec_for(requirements, owner, mint, blockhash)
    instructions = payment_instructions(spec)
    if into == "memo":
        instructions[3] = memo_instruction(spec.memo, signers=[spec.fee_payer])
    elif into == "transfer":
        ix = instructions[2]
        accounts = [*ix.accounts, AccountMeta(spec.fee_payer, is_signer=False, is_writable=False)]
        instructions[2] = Instruction(ix.program_id, ix.data, accounts)
    else:
        raise PaymentBuildError(f"into must be memo or transfer, not {into!r}")
    return assemble(
        requirements,
        spec,
        instructions,
        [owner],
        resource,
        f"lists the fee payer in the {into} instruction's accounts",
    )


# ---------------------------------------------------------------- compute budget


def compute_price_too_high(
    requirements,
    owner,
    mint,
    blockhash=None,
    *,
    resource=None,
    price: int = PRICE_CAP + 1,
) -> Payment:
    """SetComputeUnitPrice above the cap (default: 5,000,001 microlamports per unit)."""
    spec = dataclasses.replace(spec_for(requirements, owner, mint, blockhash), compute_price=price)
    return assemble(
        requirements,
        spec,
        payment_instructions(spec),
        [owner],
        resource,
        f"sets a compute unit price of {price} microlamports",
    )


def compute_limit_too_high(
    requirements,
    owner,
    mint,
    blockhash=None,
    *,
    resource=None,
    units: int = UNIT_LIMIT_MAX,
) -> Payment:
    """SetComputeUnitLimit far above what a transfer needs (default: 1,400,000 units)."""
    spec = dataclasses.replace(spec_for(requirements, owner, mint, blockhash), compute_limit=units)
    return assemble(
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
    spec = spec_for(requirements, owner, mint, old)
    return assemble(
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
    spec = spec_for(requirements, owner, mint, blockhash)
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
        version_of(requirements),
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
    spec = spec_for(requirements, owner, mint, blockhash, memo)
    return assemble(
        requirements,
        spec,
        payment_instructions(spec),
        [owner],
        resource,
        f"reuses the memo {spec.memo.decode('utf-8', 'replace')!r}",
    )
