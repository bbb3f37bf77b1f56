"""The payer against the whole sandbox (chain, facilitator, paid server as real processes).

Uses the package's pytest plugin (`x402_stack`, `x402_payer`, `x402_rpc`)."""

from __future__ import annotations

import pytest

from sandbox.payer import PaymentPolicy, X402Client
from sandbox.protocol import USDC_DEVNET_MINT, associated_token_address

pytestmark = pytest.mark.timeout(180)


def _usdc_balance(rpc, wallet: str) -> int:
    from solders.pubkey import Pubkey

    ata = associated_token_address(Pubkey.from_string(wallet), Pubkey.from_string(USDC_DEVNET_MINT))
    return int(rpc.call("getTokenAccountBalance", str(ata))["value"]["amount"])


@pytest.mark.parametrize("version", [2, 1])
async def test_pays_the_sandbox_server(x402_stack, x402_payer, x402_rpc, version: int) -> None:
    before = _usdc_balance(x402_rpc, x402_payer.address)
    async with X402Client(
        x402_payer.keypair,
        rpc_url=x402_stack.rpc_url,
        policy=PaymentPolicy(),
        x402_version=version,
    ) as client:
        response = await client.get(f"{x402_stack.server_url}/api/weather")
    assert response.status == 200, (response.status, response.text, response.rejection)
    assert response.payment.version == version
    assert response.receipt is not None and response.receipt.success, response.receipt
    assert response.receipt.payer == x402_payer.address
    tx = x402_rpc.call(
        "getTransaction",
        response.receipt.transaction,
        {"encoding": "json", "maxSupportedTransactionVersion": 0, "commitment": "confirmed"},
    )
    assert tx is not None and tx["meta"]["err"] is None
    assert _usdc_balance(x402_rpc, x402_payer.address) == before - 1_000  # $0.001


@pytest.mark.parametrize("usdc", [None, 0])
def test_pay_from_a_wallet_without_usdc_says_to_fund_it(x402_stack, x402_rpc, tmp_path, usdc):
    """No token account (None) or an empty one (0): the refusal is followed by the command that
    fixes it, not only the raw simulation error."""
    import io

    from solders.keypair import Keypair

    from sandbox.orchestration.wallets import write_keypair
    from sandbox.payer.cli import main as pay

    keypair = Keypair()
    path = write_keypair(tmp_path / "poor.json", keypair)
    x402_rpc.call("requestAirdrop", str(keypair.pubkey()), 1_000_000_000)
    if usdc is not None:
        x402_rpc.call("sandbox_mintTo", str(keypair.pubkey()), usdc)
    out = io.StringIO()
    code = pay(
        [f"{x402_stack.server_url}/api/weather", "--keypair", str(path),
         "--rpc-url", x402_stack.rpc_url],
        out=out,
    )  # fmt: skip
    text = out.getvalue()
    assert code == 1, text
    assert "the server refused the payment" in text
    assert f"x402-sandbox fund {keypair.pubkey()}" in text, text
