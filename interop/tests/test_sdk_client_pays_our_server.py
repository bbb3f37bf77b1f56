"""The SDK's httpx client pays our server, on the real sandbox stack (chain, facilitator, server).

Only `rpc_url` points the SDK at the sandbox; the payment it builds must pass our middleware and
our facilitator, and land on the chain.
"""

from __future__ import annotations

from chain_reads import landed, usdc
from sdk_env import sdk_client_pay

from sandbox.protocol import SOLANA_DEVNET


def test_sdk_client_pays_premium_content(x402_stack, x402_payer, x402_rpc) -> None:
    before = usdc(x402_rpc, x402_payer.address, x402_stack.usdc_mint)
    result = sdk_client_pay(
        f"{x402_stack.server_url}/api/premium-content", x402_payer.path, x402_stack.rpc_url
    )
    assert "error" not in result, result.get("error")
    assert result["status"] == 200, (result.get("paymentRequired"), result.get("paymentResponse"))
    assert result["body"]  # the content itself
    (first, paid) = result["sent"]
    assert first["paymentSignature"] is None and paid["paymentSignature"]  # a v2 round trip

    receipt = result["paymentResponse"]
    assert receipt["success"] is True, receipt
    assert receipt["payer"] == x402_payer.address
    assert receipt["network"] == SOLANA_DEVNET
    landed(x402_rpc, receipt["transaction"])
    assert usdc(x402_rpc, x402_payer.address, x402_stack.usdc_mint) == before - 10_000
