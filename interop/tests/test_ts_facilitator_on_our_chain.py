"""The official TypeScript facilitator (@x402/core x402Facilitator + @x402/svm exact, served by
interop/ts/facilitator.mjs), given only our chain's URL as `defaultRpcUrl`, verifies and settles
payments on our chain: one built by our payer and posted to it directly, then our server pointed
at it (only --facilitator-url changes) and paid by our payer and by the TS client; and a
payment that passes verification but fails on chain is reported as failed (the Python SDK 2.25
reports that one as a success).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from agreement import payment_body
from chain_reads import fee_payer_of, transaction, usdc
from launch import our_server
from rpc_tap import RpcTap
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from ts_env import needs_node, start_ts_facilitator, ts_client_pay

from sandbox.orchestration.wallets import write_keypair
from sandbox.payer import X402ClientSync
from sandbox.protocol import SOLANA_DEVNET, associated_token_address

pytestmark = needs_node


@pytest.fixture
def ts_facilitator(x402_stack, x402_rpc, tmp_path: Path):
    """(url, fee payer) of a TS facilitator whose fee payer has SOL on our chain."""
    fee_payer = Keypair()
    write_keypair(tmp_path / "fee-payer.json", fee_payer)
    x402_rpc.call("requestAirdrop", str(fee_payer.pubkey()), 10_000_000_000)
    proc, url = start_ts_facilitator(tmp_path, x402_stack.rpc_url, tmp_path / "fee-payer.json")
    try:
        yield url, fee_payer.pubkey()
    finally:
        proc.stop()


def test_ts_facilitator_verifies_and_settles_our_payment(
    ts_facilitator, x402_stack, x402_payer, x402_rpc
) -> None:
    url, fee_payer = ts_facilitator
    pay_to = Keypair().pubkey()
    x402_rpc.call("sandbox_mintTo", str(pay_to), 0)  # payTo's token account
    body = payment_body(
        x402_rpc, x402_payer.keypair, x402_stack.usdc_mint, str(pay_to), str(fee_payer)
    )
    wrong_pay_to = {**body, "paymentRequirements": {**body["paymentRequirements"]}}
    wrong_pay_to["paymentRequirements"]["payTo"] = str(Keypair().pubkey())

    with httpx.Client(base_url=url, timeout=60) as http:
        supported = http.get("/supported").json()
        refused = http.post("/verify", json=wrong_pay_to)
        verified = http.post("/verify", json=body)
        settled = http.post("/settle", json=body)
        again = http.post("/settle", json=body)

    v2 = [kind for kind in supported["kinds"] if kind["x402Version"] == 2]
    assert v2 == [
        {"x402Version": 2, "scheme": "exact", "network": SOLANA_DEVNET,
         "extra": {"feePayer": str(fee_payer)}}
    ]  # fmt: skip
    assert refused.json()["isValid"] is False
    assert refused.json()["invalidReason"] == "invalid_exact_svm_payload_recipient_mismatch"
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"isValid": True, "payer": x402_payer.address}
    receipt = settled.json()
    assert receipt == {
        "success": True,
        "transaction": receipt["transaction"],
        "network": SOLANA_DEVNET,
        "payer": x402_payer.address,
    }
    assert fee_payer_of(x402_rpc, receipt["transaction"]) == str(fee_payer)
    assert usdc(x402_rpc, pay_to, x402_stack.usdc_mint) == 10_000
    # The same payment once more: refused by the SDK's settlement cache (120 s), not paid twice.
    assert again.json()["success"] is False, again.json()
    assert again.json()["errorReason"] == "duplicate_settlement"
    assert usdc(x402_rpc, pay_to, x402_stack.usdc_mint) == 10_000


def test_our_server_on_the_ts_facilitator_is_paid_by_our_payer_and_the_ts_client(
    ts_facilitator, x402_stack, x402_payer, x402_rpc, tmp_path: Path
) -> None:
    url, fee_payer = ts_facilitator
    pay_to = Keypair().pubkey()
    x402_rpc.call("sandbox_mintTo", str(pay_to), 0)
    with our_server(
        tmp_path, url, str(pay_to), x402_stack.usdc_mint, x402_stack.rpc_url
    ) as server_url:
        with X402ClientSync(x402_payer.keypair, rpc_url=x402_stack.rpc_url) as client:
            ours = client.get(f"{server_url}/api/premium-content")
        theirs = ts_client_pay(f"{server_url}/api/weather", x402_payer.path, x402_stack.rpc_url)

    assert ours.status == 200, (ours.status, ours.rejection, ours.text)
    assert ours.receipt is not None and ours.receipt.success
    # The TS facilitator's fee payer paid: its /supported fed our server's 402.
    assert fee_payer_of(x402_rpc, ours.receipt.transaction) == str(fee_payer)

    assert "error" not in theirs, theirs.get("error")
    assert theirs["status"] == 200, (theirs["paymentRequired"], theirs["paymentResponse"])
    receipt = theirs["paymentResponse"]
    assert receipt["success"] is True and receipt["payer"] == x402_payer.address
    assert fee_payer_of(x402_rpc, receipt["transaction"]) == str(fee_payer)
    assert usdc(x402_rpc, pay_to, x402_stack.usdc_mint) == 10_000 + 1_000


def test_ts_facilitator_reports_a_landed_but_failed_transaction_as_failed(
    x402_stack, x402_payer, x402_rpc, tmp_path: Path
) -> None:
    fee_payer, pay_to = Keypair(), Keypair().pubkey()
    write_keypair(tmp_path / "fee-payer.json", fee_payer)
    x402_rpc.call("requestAirdrop", str(fee_payer.pubkey()), 1_000_000_000)
    x402_rpc.call("sandbox_mintTo", str(pay_to), 0)
    body = payment_body(
        x402_rpc, x402_payer.keypair, x402_stack.usdc_mint, str(pay_to), str(fee_payer.pubkey())
    )
    mint = Pubkey.from_string(x402_stack.usdc_mint)
    source = associated_token_address(x402_payer.keypair.pubkey(), mint)

    with RpcTap(x402_stack.rpc_url) as tap:
        # The payer's token account is emptied just before the facilitator's sendTransaction:
        # the payment passed verification (simulation) and then fails on chain.
        tap.drain_on_send(str(source))
        proc, url = start_ts_facilitator(tmp_path, tap.url, tmp_path / "fee-payer.json")
        try:
            with httpx.Client(base_url=url, timeout=60) as http:
                settled = http.post("/settle", json=body).json()
        finally:
            proc.stop()
        assert tap.drained == [str(source)]

    assert settled["success"] is False, settled
    assert settled["errorReason"] == "invalid_exact_svm_transaction_failed"
    assert "InstructionError" in settled["errorMessage"]
    tx = transaction(x402_rpc, settled["transaction"])
    assert tx is not None
    assert tx["meta"]["err"] == {"InstructionError": [2, {"Custom": 1}]}  # insufficient funds
    assert usdc(x402_rpc, pay_to, x402_stack.usdc_mint) == 0
