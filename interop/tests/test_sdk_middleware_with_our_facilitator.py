"""The SDK's FastAPI middleware, configured with our facilitator's URL, protects an app that both
our payer and the SDK's client pay.

With rpc_url the SDK server adds blockhash hints and re-fetches them for every request, so the
requirements it forwards to /verify can carry a newer recentBlockhash than the client's
`accepted` (interop/NOTES.md section 2). Our facilitator must leave those two hint fields out
when it compares `accepted` with the requirements (it did not before commit c92ca63, and every
such paid request failed with invalid_payment_requirements): `test_blockhash_hints_are_dynamic`
guards that.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from chain_reads import usdc
from rpc_tap import RpcTap
from sdk_env import sdk_client_pay, start_sdk_server
from solders.keypair import Keypair

from sandbox.payer import X402ClientSync
from sandbox.protocol import SOLANA_DEVNET


def start(x402_stack, x402_rpc, tmp_path: Path, rpc_url: str | None = None):
    pay_to = Keypair()
    x402_rpc.call("sandbox_mintTo", str(pay_to.pubkey()), 0)  # payTo's token account
    proc, url = start_sdk_server(
        tmp_path, x402_stack.facilitator_url, str(pay_to.pubkey()), rpc_url=rpc_url
    )
    return proc, url, pay_to.pubkey()


@pytest.fixture
def sdk_server(x402_stack, x402_rpc, tmp_path: Path):
    proc, url, pay_to = start(x402_stack, x402_rpc, tmp_path)
    yield url, pay_to
    proc.stop()


@pytest.fixture
def sdk_server_with_hints(x402_stack, x402_rpc, tmp_path: Path):
    # The SDK server reads its hints through a tap that issues a new blockhash for every call:
    # the hint it forwards to /verify always differs from the one in the client's `accepted`.
    with RpcTap(x402_stack.rpc_url, new_blockhash_per_call=True) as tap:
        proc, url, _pay_to = start(x402_stack, x402_rpc, tmp_path, rpc_url=tap.url)
        yield url, tap
        proc.stop()


def test_our_payer_pays_the_sdk_protected_app(sdk_server, x402_stack, x402_payer, x402_rpc):
    url, pay_to = sdk_server
    with X402ClientSync(x402_payer.keypair, rpc_url=x402_stack.rpc_url) as client:
        response = client.get(f"{url}/api/premium-content")
    assert response.status == 200, (response.status, response.rejection, response.text)
    assert response.receipt is not None and response.receipt.success
    assert response.receipt.network == SOLANA_DEVNET
    assert usdc(x402_rpc, pay_to, x402_stack.usdc_mint) == 10_000


def test_sdk_client_pays_the_sdk_protected_app_through_our_facilitator(
    sdk_server, x402_stack, x402_payer, x402_rpc
):
    url, pay_to = sdk_server
    result = sdk_client_pay(f"{url}/api/premium-content", x402_payer.path, x402_stack.rpc_url)
    assert "error" not in result, result.get("error")
    assert result["status"] == 200, (result.get("paymentRequired"), result.get("paymentResponse"))
    receipt = result["paymentResponse"]
    assert receipt["success"] is True and receipt["payer"] == x402_payer.address
    assert usdc(x402_rpc, pay_to, x402_stack.usdc_mint) == 10_000


def test_a_failing_handler_is_not_settled(sdk_server, x402_stack, x402_payer, x402_rpc):
    url, pay_to = sdk_server
    result = sdk_client_pay(f"{url}/api/broken", x402_payer.path, x402_stack.rpc_url)
    assert result["status"] == 500, (result.get("paymentRequired"), result.get("paymentResponse"))
    assert usdc(x402_rpc, pay_to, x402_stack.usdc_mint) == 0


def test_blockhash_hints_are_dynamic(sdk_server_with_hints, x402_stack, x402_payer, x402_rpc):
    url, tap = sdk_server_with_hints
    for round_trip in range(1, 3):
        result = sdk_client_pay(f"{url}/api/weather", x402_payer.path, x402_stack.rpc_url)
        assert result["status"] == 200, (
            result.get("paymentRequired"),
            result.get("paymentResponse"),
        )
        paid = json.loads(base64.b64decode(result["sent"][1]["paymentSignature"]))
        hint = paid["accepted"]["extra"]["recentBlockhash"]
        assert paid["payload"]["transaction"] and hint  # the client built on the 402's hint
        # one blockhash for the 402, another for the paid request's rebuilt requirements
        assert tap.blockhashes_served == 2 * round_trip
