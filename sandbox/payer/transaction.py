"""The exact-SVM payment transaction, built from plain facts: pure functions, no I/O.

Layout (shared/reference/x402-solana.md section 3, as the official clients build it):
    0 ComputeBudget SetComputeUnitLimit   [2, u32 units]
    1 ComputeBudget SetComputeUnitPrice   [3, u64 microlamports]
    2 Token/Token-2022 TransferChecked    [12, u64 amount, u8 decimals]
                                          accounts: source ATA (w), mint, destination ATA (w),
                                          owner (signer)
    3 Memo                                extra.memo, or 16 random bytes as hex
Message v0, fee payer (account 0) = extra.feePayer. Only the owner signs here; the fee payer's
slot stays the default (all-zero) signature until the facilitator signs.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.payer.errors import PaymentBuildError
from sandbox.protocol.programs import (
    COMPUTE_BUDGET_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    SET_COMPUTE_UNIT_LIMIT,
    SET_COMPUTE_UNIT_PRICE,
    TOKEN_PROGRAM_ID,
    TRANSFER_CHECKED,
    associated_token_address,
)

__all__ = [
    "COMPUTE_UNIT_LIMIT",
    "COMPUTE_UNIT_PRICE_MICROLAMPORTS",
    "MAX_MEMO_BYTES",
    "MintInfo",
    "TransferSpec",
    "build_transaction",
    "compile_message",
    "compute_limit_instruction",
    "compute_price_instruction",
    "memo_instruction",
    "payment_instructions",
    "random_memo",
    "sign_partial",
    "transfer_checked_instruction",
]

COMPUTE_UNIT_LIMIT = 20_000
COMPUTE_UNIT_PRICE_MICROLAMPORTS = 1
MAX_MEMO_BYTES = 256
U64_MAX = 2**64 - 1


@dataclass(frozen=True)
class MintInfo:
    """What the chain says about a mint: its decimals and which token program owns it."""

    address: Pubkey
    decimals: int
    token_program: Pubkey = TOKEN_PROGRAM_ID


@dataclass(frozen=True)
class TransferSpec:
    """Everything that goes into one payment transaction."""

    owner: Pubkey
    fee_payer: Pubkey
    pay_to: Pubkey
    mint: MintInfo
    amount: int
    memo: bytes
    blockhash: Hash
    compute_limit: int = COMPUTE_UNIT_LIMIT
    compute_price: int = COMPUTE_UNIT_PRICE_MICROLAMPORTS

    @property
    def source(self) -> Pubkey:
        return associated_token_address(self.owner, self.mint.address, self.mint.token_program)

    @property
    def destination(self) -> Pubkey:
        return associated_token_address(self.pay_to, self.mint.address, self.mint.token_program)


def compute_limit_instruction(units: int = COMPUTE_UNIT_LIMIT) -> Instruction:
    return Instruction(
        COMPUTE_BUDGET_PROGRAM_ID, struct.pack("<BI", SET_COMPUTE_UNIT_LIMIT, units), []
    )


def compute_price_instruction(microlamports: int = COMPUTE_UNIT_PRICE_MICROLAMPORTS) -> Instruction:
    return Instruction(
        COMPUTE_BUDGET_PROGRAM_ID, struct.pack("<BQ", SET_COMPUTE_UNIT_PRICE, microlamports), []
    )


def transfer_checked_instruction(
    source: Pubkey,
    mint: Pubkey,
    destination: Pubkey,
    authority: Pubkey,
    amount: int,
    decimals: int,
    token_program: Pubkey = TOKEN_PROGRAM_ID,
) -> Instruction:
    if not 0 <= amount <= U64_MAX:
        raise PaymentBuildError(f"amount {amount} does not fit a u64")
    if not 0 <= decimals <= 255:
        raise PaymentBuildError(f"decimals {decimals} do not fit a u8")
    return Instruction(
        token_program,
        struct.pack("<BQB", TRANSFER_CHECKED, amount, decimals),
        [
            AccountMeta(source, is_signer=False, is_writable=True),
            AccountMeta(mint, is_signer=False, is_writable=False),
            AccountMeta(destination, is_signer=False, is_writable=True),
            AccountMeta(authority, is_signer=True, is_writable=False),
        ],
    )


def memo_instruction(memo: bytes, signers: Sequence[Pubkey] = ()) -> Instruction:
    accounts = [AccountMeta(key, is_signer=True, is_writable=False) for key in signers]
    return Instruction(MEMO_PROGRAM_ID, memo, accounts)


def random_memo() -> bytes:
    """16 random bytes as 32 hex characters: makes every payment's message unique."""
    return os.urandom(16).hex().encode("ascii")


def memo_bytes(memo: str) -> bytes:
    data = memo.encode("utf-8")
    if len(data) > MAX_MEMO_BYTES:
        raise PaymentBuildError(f"extra.memo is {len(data)} bytes; at most {MAX_MEMO_BYTES}")
    return data


def payment_instructions(spec: TransferSpec) -> list[Instruction]:
    """The four instructions of an exact-SVM payment, in order."""
    return [
        compute_limit_instruction(spec.compute_limit),
        compute_price_instruction(spec.compute_price),
        transfer_checked_instruction(
            spec.source,
            spec.mint.address,
            spec.destination,
            spec.owner,
            spec.amount,
            spec.mint.decimals,
            spec.mint.token_program,
        ),
        memo_instruction(spec.memo),
    ]


def compile_message(
    fee_payer: Pubkey, instructions: Sequence[Instruction], blockhash: Hash
) -> MessageV0:
    return MessageV0.try_compile(fee_payer, list(instructions), [], blockhash)


def sign_partial(message: MessageV0, signers: Sequence[Keypair]) -> VersionedTransaction:
    """Sign the slots of `signers`; every other required signature stays all-zero.

    `populate` with signatures made here is much faster than the constructor that signs, and
    it lets a required signer (the fee payer) be left for the facilitator.
    """
    required = message.header.num_required_signatures
    keys = list(message.account_keys[:required])
    signatures = [Signature.default()] * required
    if signers:
        message_bytes = to_bytes_versioned(message)
        for keypair in signers:
            try:
                slot = keys.index(keypair.pubkey())
            except ValueError:
                raise PaymentBuildError(
                    f"{keypair.pubkey()} is not a required signer of this message"
                ) from None
            signatures[slot] = keypair.sign_message(message_bytes)
    return VersionedTransaction.populate(message, signatures)


def build_transaction(spec: TransferSpec, owner: Keypair) -> VersionedTransaction:
    """The payment transaction for `spec`, signed by `owner` only."""
    if owner.pubkey() != spec.owner:
        raise PaymentBuildError("the keypair does not match the transfer owner")
    message = compile_message(spec.fee_payer, payment_instructions(spec), spec.blockhash)
    return sign_partial(message, [owner])
