"""Building x402-shaped payments for the chain tests (the payer's shape, rebuilt here: tests of
the chain do not import another component).

Instructions, in the official client's order: SetComputeUnitLimit, SetComputeUnitPrice,
TransferChecked, Memo. The owner signs; a separate fee payer signs last.
"""

from __future__ import annotations

import os

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from sandbox.protocol.programs import (
    COMPUTE_BUDGET_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    associated_token_address,
)


def transfer_checked(
    owner: Keypair,
    fee_payer: Keypair,
    mint: Pubkey,
    pay_to: Pubkey,
    amount: int,
    blockhash: Hash,
    *,
    decimals: int = 6,
    token_program: Pubkey = TOKEN_PROGRAM_ID,
    memo: bytes | None = None,
) -> VersionedTransaction:
    source = associated_token_address(owner.pubkey(), mint, token_program)
    destination = associated_token_address(pay_to, mint, token_program)
    instructions = [
        Instruction(COMPUTE_BUDGET_PROGRAM_ID, bytes([2]) + (20_000).to_bytes(4, "little"), []),
        Instruction(COMPUTE_BUDGET_PROGRAM_ID, bytes([3]) + (1).to_bytes(8, "little"), []),
        Instruction(
            token_program,
            bytes([12]) + amount.to_bytes(8, "little") + bytes([decimals]),
            [
                AccountMeta(source, False, True),
                AccountMeta(mint, False, False),
                AccountMeta(destination, False, True),
                AccountMeta(owner.pubkey(), True, False),
            ],
        ),
        Instruction(MEMO_PROGRAM_ID, memo or os.urandom(16).hex().encode(), []),
    ]
    message = MessageV0.try_compile(fee_payer.pubkey(), instructions, [], blockhash)
    return VersionedTransaction(message, [fee_payer, owner])
