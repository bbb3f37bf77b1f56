"""Decoding the few instructions an exact-SVM payment may contain.

Each decoder takes a compiled instruction and the message's account keys and answers a small
value, or None when the instruction is not what was asked for. No I/O, no exceptions.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from solders.instruction import CompiledInstruction
from solders.pubkey import Pubkey

from sandbox.protocol.programs import (
    COMPUTE_BUDGET_PROGRAM_ID,
    LIGHTHOUSE_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    MEMO_V1_PROGRAM_ID,
    SET_COMPUTE_UNIT_LIMIT,
    SET_COMPUTE_UNIT_PRICE,
    TOKEN_PROGRAMS,
    TRANSFER_CHECKED,
)

MEMO_PROGRAMS = (MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID)
# Programs allowed after the transfer: memos, and Lighthouse (wallets such as Phantom inject it).
TRAILING_PROGRAMS = (*MEMO_PROGRAMS, LIGHTHOUSE_PROGRAM_ID)

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")


@dataclass(frozen=True, slots=True)
class TransferChecked:
    program: Pubkey
    source: Pubkey
    mint: Pubkey
    destination: Pubkey
    authority: Pubkey
    amount: int
    decimals: int


def program_of(ix: CompiledInstruction, keys: list[Pubkey]) -> Pubkey | None:
    index = ix.program_id_index
    return keys[index] if index < len(keys) else None


def compute_unit_limit(ix: CompiledInstruction, keys: list[Pubkey]) -> int | None:
    data = ix.data
    if program_of(ix, keys) != COMPUTE_BUDGET_PROGRAM_ID or len(data) != 5:
        return None
    if data[0] != SET_COMPUTE_UNIT_LIMIT:
        return None
    return struct.unpack_from("<I", data, 1)[0]


def compute_unit_price(ix: CompiledInstruction, keys: list[Pubkey]) -> int | None:
    data = ix.data
    if program_of(ix, keys) != COMPUTE_BUDGET_PROGRAM_ID or len(data) != 9:
        return None
    if data[0] != SET_COMPUTE_UNIT_PRICE:
        return None
    return struct.unpack_from("<Q", data, 1)[0]


def transfer_checked(ix: CompiledInstruction, keys: list[Pubkey]) -> TransferChecked | None:
    """A TransferChecked of SPL Token or Token-2022 with exactly its four accounts.

    Extra accounts (multisig co-signers) are refused: a payment has one owner, the client.
    """
    program = program_of(ix, keys)
    data = ix.data
    if program not in TOKEN_PROGRAMS or len(data) != 10 or data[0] != TRANSFER_CHECKED:
        return None
    accounts = bytes(ix.accounts)
    if len(accounts) != 4 or any(index >= len(keys) for index in accounts):
        return None
    amount, decimals = struct.unpack_from("<QB", data, 1)
    return TransferChecked(
        program=program,
        source=keys[accounts[0]],
        mint=keys[accounts[1]],
        destination=keys[accounts[2]],
        authority=keys[accounts[3]],
        amount=amount,
        decimals=decimals,
    )


def is_memo(ix: CompiledInstruction, keys: list[Pubkey]) -> bool:
    return program_of(ix, keys) in MEMO_PROGRAMS


def is_trailing_allowed(ix: CompiledInstruction, keys: list[Pubkey]) -> bool:
    return program_of(ix, keys) in TRAILING_PROGRAMS


def ordinal(index: int) -> str:
    return ORDINALS[index] if index < len(ORDINALS) else f"{index + 1}th"
