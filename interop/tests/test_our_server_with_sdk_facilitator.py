"""Our server, pointed at the SDK's facilitator (only --facilitator-url changes), is paid by our
payer and by the SDK client; the SDK facilitator settles both on our chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from chain_reads import fee_payer_of, usdc
from launch import our_server
from sdk_env import sdk_client_pay, start_sdk_facilitator
from solders.keypair import Keypair

from sandbox.orchestration.wallets import write_keypair
from sandbox.payer import X402ClientSync
from sandbox.protocol import SOLANA_DEVNET


@pytest.fixture
def our_server_on_sdk_facilitator(x402_stack, x402_rpc, tmp_path: Path):
    fee_payer, pay_to = Keypair(), Keypair()
    write_keypair(tmp_path / "fee-payer.json", fee_payer)
    x402_rpc.call("requestAirdrop", str(fee_payer.pubkey()), 10_000_000_000)
    x402_rpc.call("sandbox_mintTo", str(pay_to.pubkey()), 0)  # payTo's token account
    sdk, sdk_url = start_sdk_facilitator(tmp_path, x402_stack.rpc_url, tmp_path / "fee-payer.json")
    try:
        with our_server(
            tmp_path, sdk_url, str(pay_to.pubkey()), x402_stack.usdc_mint, x402_stack.rpc_url
        ) as url:
            yield url, pay_to.pubkey(), fee_payer.pubkey()
    finally:
        sdk.stop()


def test_our_payer_and_the_sdk_client_pay_our_server_through_the_sdk_facilitator(
    our_server_on_sdk_facilitator, x402_stack, x402_payer, x402_rpc
) -> None:
    url, pay_to, fee_payer = our_server_on_sdk_facilitator
    with X402ClientSync(x402_payer.keypair, rpc_url=x402_stack.rpc_url) as client:
        ours = client.get(f"{url}/api/premium-content")
    assert ours.status == 200, (ours.status, ours.rejection, ours.text)
    assert ours.receipt is not None and ours.receipt.success
    assert ours.receipt.network == SOLANA_DEVNET
    # The SDK facilitator's fee payer paid for it: its /supported fed our server's 402.
    assert fee_payer_of(x402_rpc, ours.receipt.transaction) == str(fee_payer)

    sdk = sdk_client_pay(f"{url}/api/weather", x402_payer.path, x402_stack.rpc_url)
    assert "error" not in sdk, sdk.get("error")
    assert sdk["status"] == 200, (sdk.get("paymentRequired"), sdk.get("paymentResponse"))
    receipt = sdk["paymentResponse"]
    assert receipt["success"] is True and receipt["payer"] == x402_payer.address
    assert fee_payer_of(x402_rpc, receipt["transaction"]) == str(fee_payer)
    assert usdc(x402_rpc, pay_to, x402_stack.usdc_mint) == 10_000 + 1_000
