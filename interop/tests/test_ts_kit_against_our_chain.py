"""@solana/kit alone, as a wallet or dApp uses it, against our chain's JSON-RPC and PubSub.

interop/ts/kit_transfer.mjs reads (genesis hash, blockhash, balance, mint), airdrops with
airdropFactory, and sends a create-token-account + TransferChecked transaction with
sendAndConfirmTransactionFactory, whose confirmation waits on signatureSubscribe/slotSubscribe
on the PubSub port. Run on the test stack's chain (a block per transaction) and on a chain that
closes blocks on a 400 ms clock like `make up`'s, where confirmation really has to wait.
"""

from __future__ import annotations

from typing import Any

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from ts_env import needs_node, run_node_json

from sandbox.chain.testing import start_chain
from sandbox.orchestration.wallets import write_keypair
from sandbox.protocol import DEVNET_GENESIS_HASH, USDC_DEVNET_MINT, associated_token_address

pytestmark = needs_node

AIRDROP = 10_000_000  # what the script airdrops to the recipient
AMOUNT = 123_456
TOKEN_ACCOUNT_SIZE = 165


def kit_transfer(rpc_url: str, ws_url: str, rpc: Any, tmp_path) -> None:
    """Fund a fresh payer with cheat codes, run the kit script, check the chain agrees."""
    payer, recipient = Keypair(), Keypair()
    write_keypair(tmp_path / "kit-payer.json", payer)
    rpc("requestAirdrop", str(payer.pubkey()), 1_000_000_000)
    rpc("sandbox_mintTo", str(payer.pubkey()), 2_000_000)

    out = run_node_json(
        "kit_transfer.mjs",
        *(rpc_url, ws_url, str(tmp_path / "kit-payer.json"), str(recipient.pubkey())),
        *(USDC_DEVNET_MINT, str(AMOUNT)),
    )
    assert "error" not in out, out

    assert out["genesisHash"] == DEVNET_GENESIS_HASH
    assert int(out["lastValidBlockHeight"]) > int(rpc("getBlockHeight"))  # still valid
    assert out["mintDecimals"] == 6
    assert out["lamportsBefore"] == "1000000000"
    assert out["recipientLamports"] == str(AIRDROP)
    assert out["sourceBefore"] == "2000000"
    assert out["sourceAfter"] == str(2_000_000 - AMOUNT)
    assert out["destinationAfter"] == str(AMOUNT)
    assert out["confirmationStatus"] in ("confirmed", "finalized")
    assert out["statusErr"] is None and out["transactionErr"] is None
    assert out["transactionVersion"] in (0, "0")  # kit reads numbers as BigInt

    # What kit reported is what the chain holds.
    mint = Pubkey.from_string(USDC_DEVNET_MINT)
    destination = associated_token_address(recipient.pubkey(), mint)
    assert out["destination"] == str(destination)
    # Kit waited for confirmed; a read without commitment is finalized (a block later).
    confirmed = {"commitment": "confirmed"}
    balance = rpc("getTokenAccountBalance", str(destination), confirmed)["value"]["amount"]
    assert balance == str(AMOUNT)
    tx = rpc(
        "getTransaction",
        out["signature"],
        {"encoding": "json", "maxSupportedTransactionVersion": 0, "commitment": "confirmed"},
    )
    assert tx is not None and tx["meta"]["err"] is None
    assert tx["meta"]["innerInstructions"], "creating the token account makes inner calls"
    rent = rpc("getMinimumBalanceForRentExemption", TOKEN_ACCOUNT_SIZE)
    fee = int(out["fee"])
    assert fee == tx["meta"]["fee"] == 5000
    assert int(out["lamportsAfter"]) == 1_000_000_000 - fee - rent
    assert rpc("getBalance", str(payer.pubkey()), confirmed)["value"] == int(out["lamportsAfter"])


def test_kit_sends_and_confirms_on_the_test_stack(x402_stack, x402_rpc, tmp_path) -> None:
    kit_transfer(x402_stack.rpc_url, x402_stack.ws_url, x402_rpc.call, tmp_path)


@pytest.fixture(scope="module")
def clocked_chain():
    with start_chain(slot_ms=400) as running:
        yield running


def test_kit_sends_and_confirms_with_400ms_slots(clocked_chain, tmp_path) -> None:
    kit_transfer(clocked_chain.rpc_url, clocked_chain.ws_url, clocked_chain.rpc, tmp_path)
