"""The SDK's FastAPI middleware, configured with our facilitator's URL, protects an app that both
our payer and the SDK's client pay.

With rpc_url the SDK server adds blockhash hints and re-fetches them for every request, so the
requirements it forwards to /verify can carry a newer recentBlockhash than the client's
`accepted` (interop/NOTES.md section 2). Our facilitator then answers
invalid_payment_requirements whenever a block passed between the 402 and the paid request:
`test_blockhash_hints_are_dynamic` pins that down until the facilitator ignores those fields.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sdk_env import sdk_client_pay, start_sdk_server
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.payer import X402ClientSync
from sandbox.protocol import SOLANA_DEVNET, associated_token_address


def start(x402_stack, x402_rpc, tmp_path: Path, hints: bool):
    pay_to = Keypair()
    x402_rpc.call("sandbox_mintTo", str(pay_to.pubkey()), 0)  # payTo's token account
    rpc_url = x402_stack.rpc_url if hints else None
    proc, url = start_sdk_server(
        tmp_path, x402_stack.facilitator_url, str(pay_to.pubkey()), rpc_url=rpc_url
    )
    return proc, url, pay_to.pubkey()


@pytest.fixture
def sdk_server(x402_stack, x402_rpc, tmp_path: Path):
    proc, url, pay_to = start(x402_stack, x402_rpc, tmp_path, hints=False)
    yield url, pay_to
    proc.stop()


@pytest.fixture
def sdk_server_with_hints(x402_stack, x402_rpc, tmp_path: Path):
    proc, url, pay_to = start(x402_stack, x402_rpc, tmp_path, hints=True)
    yield url, pay_to
    proc.stop()


def received(rpc, owner: Pubkey, mint: str) -> int:
    ata = associated_token_address(owner, Pubkey.from_string(mint))
    return int(rpc.call("getTokenAccountBalance", str(ata))["value"]["amount"])


def test_our_payer_pays_the_sdk_protected_app(sdk_server, x402_stack, x402_payer, x402_rpc):
    url, pay_to = sdk_server
    with X402ClientSync(x402_payer.keypair, rpc_url=x402_stack.rpc_url) as client:
        response = client.get(f"{url}/api/premium-content")
    assert response.status == 200, (response.status, response.rejection, response.text)
    assert response.receipt is not None and response.receipt.success
    assert response.receipt.network == SOLANA_DEVNET
    assert received(x402_rpc, pay_to, x402_stack.usdc_mint) == 10_000


def test_sdk_client_pays_the_sdk_protected_app_through_our_facilitator(
    sdk_server, x402_stack, x402_payer, x402_rpc
):
    url, pay_to = sdk_server
    result = sdk_client_pay(f"{url}/api/premium-content", x402_payer.path, x402_stack.rpc_url)
    assert "error" not in result, result.get("error")
    assert result["status"] == 200, (result.get("paymentRequired"), result.get("paymentResponse"))
    receipt = result["paymentResponse"]
    assert receipt["success"] is True and receipt["payer"] == x402_payer.address
    assert received(x402_rpc, pay_to, x402_stack.usdc_mint) == 10_000


def test_a_failing_handler_is_not_settled(sdk_server, x402_stack, x402_payer, x402_rpc):
    url, pay_to = sdk_server
    result = sdk_client_pay(f"{url}/api/broken", x402_payer.path, x402_stack.rpc_url)
    assert result["status"] == 500, (result.get("paymentRequired"), result.get("paymentResponse"))
    assert received(x402_rpc, pay_to, x402_stack.usdc_mint) == 0


@pytest.mark.xfail(
    strict=False,
    reason="our facilitator compares accepted.extra.recentBlockhash with the SDK server's "
    "re-fetched hint and answers invalid_payment_requirements when a block passed in between",
)
def test_blockhash_hints_are_dynamic(sdk_server_with_hints, x402_stack, x402_payer, x402_rpc):
    url, _pay_to = sdk_server_with_hints
    for _ in range(3):  # other traffic moves the chain; each round is one more chance to catch it
        x402_rpc.call("sandbox_advanceSlots", 1)
        result = sdk_client_pay(f"{url}/api/weather", x402_payer.path, x402_stack.rpc_url)
        assert result["status"] == 200, (
            result.get("paymentRequired"),
            result.get("paymentResponse"),
        )
