"""A payment built by the payer, executed by the sandbox chain process over JSON-RPC."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from payer_ledger import fee_payer_sign
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.payer import ChainFacts, RpcClient, build_payment
from sandbox.protocol import (
    SOLANA_DEVNET,
    USDC_DEVNET_MINT,
    PaymentRequirements,
    associated_token_address,
)

testing = pytest.importorskip("sandbox.chain.testing")

pytestmark = pytest.mark.timeout(120)


def token_balance(chain, wallet: Keypair) -> int:
    ata = associated_token_address(wallet.pubkey(), Pubkey.from_string(USDC_DEVNET_MINT))
    return int(chain.rpc("getTokenAccountBalance", str(ata))["value"]["amount"])


async def test_payment_executes_on_the_sandbox_chain_and_moves_the_amount() -> None:
    owner, fee_payer, merchant = Keypair(), Keypair(), Keypair()
    with testing.start_chain(slot_ms=0) as chain:
        assert chain.rpc("getGenesisHash").startswith(SOLANA_DEVNET.split(":")[1])
        chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 1_000_000_000)
        chain.rpc("sandbox_mintTo", str(owner.pubkey()), 1_000_000)
        chain.rpc("sandbox_mintTo", str(merchant.pubkey()), 0)
        requirements = PaymentRequirements(
            scheme="exact",
            network=SOLANA_DEVNET,
            amount="12345",
            asset=USDC_DEVNET_MINT,
            pay_to=str(merchant.pubkey()),
            max_timeout_seconds=60,
            extra={"feePayer": str(fee_payer.pubkey())},
        )
        async with RpcClient(chain.rpc_url) as rpc:
            facts = ChainFacts(rpc)
            mint = await facts.mint(USDC_DEVNET_MINT)
            assert mint.decimals == 6
            payment = build_payment(requirements, owner, mint, await facts.blockhash())
            signed = fee_payer_sign(payment.transaction, fee_payer)
            encoded = base64.b64encode(bytes(signed)).decode()
            signature = await rpc.call("sendTransaction", [encoded, {"encoding": "base64"}])
            assert signature == str(signed.signatures[0])
            deadline = time.monotonic() + 30
            status = None
            while time.monotonic() < deadline:
                status = (await rpc.call("getSignatureStatuses", [[signature]]))["value"][0]
                if status and status.get("confirmationStatus") in ("confirmed", "finalized"):
                    break
                await asyncio.sleep(0.05)
            assert status is not None and status["err"] is None, status
        assert token_balance(chain, owner) == 1_000_000 - 12_345
        assert token_balance(chain, merchant) == 12_345
