"""The official TypeScript client (@x402/fetch + @x402/svm 2.27) pays our server, on the real
sandbox stack. Only `rpcUrl` points it at the sandbox; the payment it builds must pass our
middleware and our facilitator and land on our chain.

v2 is what it pays against our server (it reads `PAYMENT-REQUIRED` first); behind the v1-only
proxy it takes its v1 path (`X-PAYMENT`), which our server must settle too.
"""

from __future__ import annotations

from chain_reads import landed, usdc
from ts_env import needs_node, ts_client_pay
from v1_only_proxy import V1OnlyProxy

from sandbox.protocol import SOLANA_DEVNET

pytestmark = needs_node

PREMIUM = 10_000  # /api/premium-content, $0.01 in USDC atomic units


def test_ts_client_pays_premium_content_in_v2(x402_stack, x402_payer, x402_rpc) -> None:
    merchant = x402_stack.wallet("merchant").address
    mint = x402_stack.usdc_mint
    payer_before, merchant_before = (
        usdc(x402_rpc, x402_payer.address, mint),
        usdc(x402_rpc, merchant, mint),
    )

    result = ts_client_pay(
        f"{x402_stack.server_url}/api/premium-content", x402_payer.path, x402_stack.rpc_url
    )
    assert "error" not in result, result.get("error")
    assert result["status"] == 200, (result["paymentRequired"], result["paymentResponse"])
    assert result["body"]["content"]

    first, paid = result["sent"]
    assert first["paymentSignature"] is None and first["xPayment"] is None
    payment = paid["paymentSignature"]
    assert payment and paid["xPayment"] is None  # a v2 payment in the v2 header
    assert payment["x402Version"] == 2
    assert payment["accepted"] == result["paymentRequired"]["accepts"][0]  # verbatim

    receipt = result["paymentResponse"]
    assert receipt["success"] is True, receipt
    assert receipt["payer"] == x402_payer.address
    assert receipt["network"] == SOLANA_DEVNET
    tx = landed(x402_rpc, receipt["transaction"])
    # The TS client's own transaction: our facilitator's fee payer (from our 402) pays the fee.
    fee_payer = payment["accepted"]["extra"]["feePayer"]
    assert tx["transaction"]["message"]["accountKeys"][:2] == [fee_payer, x402_payer.address]
    assert usdc(x402_rpc, x402_payer.address, mint) == payer_before - PREMIUM
    assert usdc(x402_rpc, merchant, mint) == merchant_before + PREMIUM


def test_ts_client_pays_our_server_in_v1(x402_stack, x402_payer, x402_rpc) -> None:
    merchant = x402_stack.wallet("merchant").address
    merchant_before = usdc(x402_rpc, merchant, x402_stack.usdc_mint)
    with V1OnlyProxy(x402_stack.server_url) as proxy:
        result = ts_client_pay(
            f"{proxy.url}/api/premium-content", x402_payer.path, x402_stack.rpc_url
        )
    assert "error" not in result, result.get("error")
    assert result["status"] == 200, (result["body"], result["headers"])

    first, paid = proxy.seen
    assert first["x-payment"] is None and first["payment-signature"] is None
    assert paid["x-payment"] and paid["payment-signature"] is None  # v1 payment, v1 header
    assert result["sent"][1]["xPayment"]["network"] == "solana-devnet"
    assert "x-payment-response" in result["headers"]
    assert "payment-response" not in result["headers"]

    receipt = result["paymentResponse"]
    assert receipt["success"] is True, receipt
    assert receipt["network"] == "solana-devnet"
    landed(x402_rpc, receipt["transaction"])
    assert usdc(x402_rpc, merchant, x402_stack.usdc_mint) == merchant_before + PREMIUM
