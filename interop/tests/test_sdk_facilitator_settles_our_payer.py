"""The SDK's facilitator, given only our chain's RPC URL, verifies and settles a payment built by
our payer; the transfer lands on our chain."""

from __future__ import annotations

from pathlib import Path

import httpx
from agreement import payment_body
from chain_reads import landed, usdc
from sdk_env import start_sdk_facilitator
from solders.keypair import Keypair

from sandbox.orchestration.wallets import write_keypair
from sandbox.protocol import SOLANA_DEVNET


def test_sdk_facilitator_verifies_and_settles_our_payment(
    x402_stack, x402_payer, x402_rpc, tmp_path: Path
) -> None:
    fee_payer, pay_to = Keypair(), Keypair()
    write_keypair(tmp_path / "fee-payer.json", fee_payer)
    x402_rpc.call("requestAirdrop", str(fee_payer.pubkey()), 1_000_000_000)
    x402_rpc.call("sandbox_mintTo", str(pay_to.pubkey()), 0)  # payTo's token account
    proc, url = start_sdk_facilitator(tmp_path, x402_stack.rpc_url, tmp_path / "fee-payer.json")
    try:
        body = payment_body(
            x402_rpc,
            x402_payer.keypair,
            x402_stack.usdc_mint,
            str(pay_to.pubkey()),
            str(fee_payer.pubkey()),
        )
        with httpx.Client(base_url=url, timeout=60) as http:
            verified = http.post("/verify", json=body)
            settled = http.post("/settle", json=body)
    finally:
        proc.stop()
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"isValid": True, "payer": x402_payer.address}
    assert settled.status_code == 200, settled.text
    receipt = settled.json()
    assert receipt["success"] is True, receipt
    assert receipt["payer"] == x402_payer.address and receipt["network"] == SOLANA_DEVNET
    landed(x402_rpc, receipt["transaction"])
    assert usdc(x402_rpc, pay_to.pubkey(), x402_stack.usdc_mint) == 10_000
