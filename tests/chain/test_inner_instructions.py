"""A transaction whose program calls others (CPI) is answered like any other.

x402 payments make no CPI, so this path was first taken by @solana/kit's wallet-style transfer
(create the recipient's token account, then TransferChecked): getTransaction answered -32603
because the inner instructions were read wrongly. Both getTransaction and simulateTransaction
(`innerInstructions: true`) must list them, as the validator does: `{index, instructions:
[{programIdIndex, accounts, data, stackHeight}]}`.
"""

from __future__ import annotations

import base64

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from sandbox.protocol.programs import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    SYSTEM_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    associated_token_address,
)

from .conftest import USDC

CREATE_IDEMPOTENT = 1  # Associated Token Account program instruction


def create_token_account(funder: Keypair, owner: Pubkey, blockhash: Hash) -> VersionedTransaction:
    """The ATA program's CreateIdempotent: it calls System (create account) and Token (init)."""
    ix = Instruction(
        ASSOCIATED_TOKEN_PROGRAM_ID,
        bytes([CREATE_IDEMPOTENT]),
        [
            AccountMeta(funder.pubkey(), True, True),
            AccountMeta(associated_token_address(owner, USDC), False, True),
            AccountMeta(owner, False, False),
            AccountMeta(USDC, False, False),
            AccountMeta(SYSTEM_PROGRAM_ID, False, False),
            AccountMeta(TOKEN_PROGRAM_ID, False, False),
        ],
    )
    message = MessageV0.try_compile(funder.pubkey(), [ix], [], blockhash)
    return VersionedTransaction(message, [funder])


def _assert_inner(inner: list, account_keys: list[str]) -> None:
    assert [group["index"] for group in inner] == [0]
    calls = inner[0]["instructions"]
    programs = {account_keys[call["programIdIndex"]] for call in calls}
    assert {str(SYSTEM_PROGRAM_ID), str(TOKEN_PROGRAM_ID)} <= programs
    for call in calls:
        assert set(call) == {"programIdIndex", "accounts", "data", "stackHeight"}
        assert call["stackHeight"] == 2  # called by a top-level instruction
        assert all(isinstance(i, int) and 0 <= i < len(account_keys) for i in call["accounts"])
        assert isinstance(call["data"], str)


def test_get_transaction_lists_inner_instructions(fast_chain):
    funder, owner = Keypair(), Keypair()
    fast_chain.rpc("requestAirdrop", str(funder.pubkey()), 10**9)
    blockhash = Hash.from_string(fast_chain.rpc("getLatestBlockhash")["value"]["blockhash"])
    tx = create_token_account(funder, owner.pubkey(), blockhash)
    wire = base64.b64encode(bytes(tx)).decode()
    signature = fast_chain.rpc("sendTransaction", wire, {"encoding": "base64"})
    assert signature == str(tx.signatures[0])

    landed = fast_chain.rpc(
        "getTransaction",
        signature,
        {"encoding": "json", "maxSupportedTransactionVersion": 0, "commitment": "confirmed"},
    )
    assert landed["meta"]["err"] is None
    _assert_inner(
        landed["meta"]["innerInstructions"], landed["transaction"]["message"]["accountKeys"]
    )
    ata = associated_token_address(owner.pubkey(), USDC)
    assert fast_chain.rpc("getTokenAccountBalance", str(ata))["value"]["amount"] == "0"


def test_simulation_lists_inner_instructions_when_asked(fast_chain):
    funder, owner = Keypair(), Keypair()
    fast_chain.rpc("requestAirdrop", str(funder.pubkey()), 10**9)
    blockhash = Hash.from_string(fast_chain.rpc("getLatestBlockhash")["value"]["blockhash"])
    tx = create_token_account(funder, owner.pubkey(), blockhash)
    wire = base64.b64encode(bytes(tx)).decode()

    simulated = fast_chain.rpc(
        "simulateTransaction", wire, {"encoding": "base64", "innerInstructions": True}
    )["value"]
    assert simulated["err"] is None
    keys = [str(key) for key in tx.message.account_keys]
    _assert_inner(simulated["innerInstructions"], keys)
    plain = fast_chain.rpc("simulateTransaction", wire, {"encoding": "base64"})["value"]
    assert plain["innerInstructions"] is None
