"""The SDK's httpx client pays our server in v1.

The SDK client supports v1 on Solana (`register_exact_svm_client` registers its v1 scheme for
`solana`, `solana-devnet` and `solana-testnet`), but it reads a 402's `PAYMENT-REQUIRED` header
before its body, so against our server, which sends both, it always pays v2
(test_sdk_client_pays_our_server.py). Here a proxy hides that header: the client sees exactly what
a v1-only server sends, takes its v1 path, and our server and facilitator must settle the v1
payment it builds (X-PAYMENT in, X-PAYMENT-RESPONSE out, the transfer on chain).
"""

from __future__ import annotations

from chain_reads import landed, usdc
from sdk_env import sdk_client_pay
from v1_only_proxy import V1OnlyProxy


def test_sdk_client_pays_our_server_in_v1(x402_stack, x402_payer, x402_rpc) -> None:
    before = usdc(x402_rpc, x402_payer.address, x402_stack.usdc_mint)
    with V1OnlyProxy(x402_stack.server_url) as proxy:
        result = sdk_client_pay(
            f"{proxy.url}/api/premium-content", x402_payer.path, x402_stack.rpc_url
        )
    assert "error" not in result, result.get("error")
    assert result["status"] == 200, (result.get("body"), result.get("headers"))
    assert result["body"]  # the content itself

    (first, paid) = proxy.seen
    assert first["x-payment"] is None and first["payment-signature"] is None
    assert paid["x-payment"] and paid["payment-signature"] is None  # a v1 payment, v1 header
    assert "x-payment-response" in result["headers"]
    assert "payment-response" not in result["headers"]  # our server answers in the payer's version

    receipt = result["paymentResponse"]
    assert receipt["success"] is True, receipt
    assert receipt["payer"] == x402_payer.address
    assert receipt["network"] == "solana-devnet"  # v1 network name in a v1 receipt
    landed(x402_rpc, receipt["transaction"])
    assert usdc(x402_rpc, x402_payer.address, x402_stack.usdc_mint) == before - 10_000
