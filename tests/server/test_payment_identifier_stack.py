"""payment-identifier through the real stack (chain, facilitator, server as processes): the
payer's resend of a paid request is answered again and charged once, on chain."""

from __future__ import annotations

import uuid

import pytest

from sandbox.payer import PaymentPolicy, X402Client
from sandbox.protocol import USDC_DEVNET_MINT, associated_token_address

pytestmark = pytest.mark.timeout(180)


def _usdc(rpc, wallet: str) -> int:
    from solders.pubkey import Pubkey

    ata = associated_token_address(Pubkey.from_string(wallet), Pubkey.from_string(USDC_DEVNET_MINT))
    return int(rpc.call("getTokenAccountBalance", str(ata))["value"]["amount"])


async def test_a_resend_is_served_again_and_charged_once(x402_stack, x402_payer, x402_rpc):
    merchant = next(w.address for w in x402_stack.wallets if w.name == "merchant")
    before = (_usdc(x402_rpc, x402_payer.address), _usdc(x402_rpc, merchant))
    async with X402Client(
        x402_payer.keypair, rpc_url=x402_stack.rpc_url, policy=PaymentPolicy()
    ) as client:
        first = await client.get(f"{x402_stack.server_url}/api/order")
        assert first.status == 200, (first.text, first.rejection)
        assert first.payment.payment_id and first.payment.payment_id.startswith("pay_")
        again = await client.resend(first)
        conflict = await client.get(
            f"{x402_stack.server_url}/api/order", payment_id=first.payment.payment_id
        )
    assert again.status == 200 and again.body == first.body  # the kept answer (same placedAt)
    assert again.receipt.transaction == first.receipt.transaction
    assert conflict.status == 409 and conflict.json()["error"] == "payment_identifier_conflict"
    after = (_usdc(x402_rpc, x402_payer.address), _usdc(x402_rpc, merchant))
    assert after == (before[0] - 10_000, before[1] + 10_000)  # $0.01, once


async def test_a_required_id_left_out_is_refused_before_any_payment(
    x402_stack, x402_payer, x402_rpc
):
    before = _usdc(x402_rpc, x402_payer.address)
    async with X402Client(
        x402_payer.keypair, rpc_url=x402_stack.rpc_url, policy=PaymentPolicy(), payment_ids=False
    ) as client:
        refused = await client.get(f"{x402_stack.server_url}/api/order")
    assert refused.status == 400
    assert refused.json()["error"] == "payment_identifier_required"
    assert _usdc(x402_rpc, x402_payer.address) == before


def test_pay_cli_sends_the_given_id_and_a_reused_id_is_a_conflict(
    x402_stack, x402_payer, x402_rpc, tmp_path
):
    """`x402-sandbox pay --payment-id ID`: the id goes out with the payment; the same id on a
    second, new payment is refused with 409 and a hint, and charged nothing."""
    import io

    from sandbox.payer import save_keypair
    from sandbox.payer.cli import main

    keypair = save_keypair(x402_payer.keypair, tmp_path / "payer.json")
    argv = [f"{x402_stack.server_url}/api/order", "--keypair", str(keypair)]
    payment_id = f"order-cli-{uuid.uuid4().hex}"  # fresh: a rerun on one stack is no conflict
    argv += ["--rpc-url", x402_stack.rpc_url, "--payment-id", payment_id]
    before = _usdc(x402_rpc, x402_payer.address)
    first, second = io.StringIO(), io.StringIO()
    assert main(argv, first) == 0, first.getvalue()
    assert f"payment identifier {payment_id}" in first.getvalue()
    assert _usdc(x402_rpc, x402_payer.address) == before - 10_000
    assert main(argv, second) == 1
    assert "<- 409" in second.getvalue() and "needs a new id" in second.getvalue()
    assert _usdc(x402_rpc, x402_payer.address) == before - 10_000


def test_pay_cli_names_the_flag_for_a_malformed_id(capsys):
    from sandbox.payer.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["http://127.0.0.1:9/api/order", "--payment-id", "short"])
    assert exit_.value.code == 2
    assert "--payment-id: must be 16 to 128 characters" in capsys.readouterr().err
