"""sign-in-with-x through the real stack (chain, facilitator, server as processes): a wallet
pays /api/member-content once, then opens it again by signing in, charged once on chain; a
replayed sign-in, a wallet that never paid and a message for another origin are refused."""

from __future__ import annotations

import io

import httpx
import pytest

from sandbox.payer import PaymentPolicy, X402Client, save_keypair
from sandbox.payer.cli import main
from sandbox.protocol import (
    USDC_DEVNET_MINT,
    associated_token_address,
    decode_payment_required,
    reasons,
    siws,
)

pytestmark = pytest.mark.timeout(180)
ROUTE = "/api/member-content"


def _usdc(rpc, wallet: str) -> int:
    from solders.pubkey import Pubkey

    ata = associated_token_address(Pubkey.from_string(wallet), Pubkey.from_string(USDC_DEVNET_MINT))
    return int(rpc.call("getTokenAccountBalance", str(ata))["value"]["amount"])


def _refusal(answer: httpx.Response) -> str:
    assert answer.status_code == 402, answer.text
    return decode_payment_required(answer.headers["PAYMENT-REQUIRED"]).error


async def test_pay_once_then_sign_in_opens_the_route_without_a_second_charge(
    x402_stack, x402_payer, x402_rpc
):
    url = f"{x402_stack.server_url}{ROUTE}"
    merchant = next(w.address for w in x402_stack.wallets if w.name == "merchant")
    async with X402Client(
        x402_payer.keypair, rpc_url=x402_stack.rpc_url, policy=PaymentPolicy()
    ) as client:
        never = await client.sign_in(url)  # before paying: refused, nothing charged
        assert never.status == 402 and never.rejection == reasons.SIGN_IN_NOT_PAID
        paid = await client.get(url)
        assert paid.status == 200 and paid.receipt.success, (paid.text, paid.rejection)
        before = (_usdc(x402_rpc, x402_payer.address), _usdc(x402_rpc, merchant))
        signed = await client.sign_in(url)
        again = await client.sign_in(url)  # a fresh challenge: opens again
    assert signed.signed_in and signed.json()["kind"] == "member", signed.text
    assert "PAYMENT-RESPONSE" not in signed.headers
    assert again.signed_in
    assert (_usdc(x402_rpc, x402_payer.address), _usdc(x402_rpc, merchant)) == before

    async with httpx.AsyncClient(timeout=30) as http:
        replay = await http.get(url, headers={siws.HEADER: signed.sign_in})
    assert _refusal(replay) == reasons.SIGN_IN_NONCE_REUSED
    assert (_usdc(x402_rpc, x402_payer.address), _usdc(x402_rpc, merchant)) == before


async def test_a_wallet_that_never_paid_and_another_origin_are_refused(x402_stack, x402_payer):
    from solders.keypair import Keypair

    url = f"{x402_stack.server_url}{ROUTE}"
    async with X402Client(Keypair(), rpc_url=x402_stack.rpc_url) as stranger:
        refused = await stranger.sign_in(url)
    assert refused.status == 402 and refused.rejection == reasons.SIGN_IN_NOT_PAID
    assert "has no settled payment" in refused.json()["message"]

    async with httpx.AsyncClient(timeout=30) as http:
        extension = decode_payment_required((await http.get(url)).headers["PAYMENT-REQUIRED"])
        declared = extension.extensions[siws.EXTENSION]
        assert declared["info"]["uri"] == url  # the server's own origin, from its settings
        declared["info"].update(domain="elsewhere.example", uri=f"http://elsewhere.example{ROUTE}")
        forged = siws.encode_header(siws.sign(declared, x402_payer.keypair))
        # The Host header is the caller's to set: naming the other site there changes nothing.
        other = await http.get(url, headers={siws.HEADER: forged, "Host": "elsewhere.example"})
    assert _refusal(other) == reasons.SIGN_IN_DOMAIN_MISMATCH


def test_pay_cli_pays_then_signs_in_and_hints_a_wallet_that_never_paid(
    x402_stack, x402_payer, x402_rpc, tmp_path
):
    """`x402-sandbox pay URL` then `x402-sandbox pay URL --sign-in`: the second is served
    without paying; --sign-in from a wallet that never paid exits 1 with a hint."""
    keypair = save_keypair(x402_payer.keypair, tmp_path / "payer.json")
    argv = [f"{x402_stack.server_url}{ROUTE}", "--keypair", str(keypair)]
    argv += ["--rpc-url", x402_stack.rpc_url]
    refused = io.StringIO()
    assert main([*argv, "--sign-in"], refused) == 1
    assert reasons.SIGN_IN_NOT_PAID in refused.getvalue()
    assert "hint: this wallet has not paid for this route yet" in refused.getvalue()
    before = _usdc(x402_rpc, x402_payer.address)
    paid, signed = io.StringIO(), io.StringIO()
    assert main(argv, paid) == 0, paid.getvalue()
    assert _usdc(x402_rpc, x402_payer.address) == before - 10_000
    assert main([*argv, "--sign-in"], signed) == 0, signed.getvalue()
    assert "signed in: served without paying" in signed.getvalue()
    assert _usdc(x402_rpc, x402_payer.address) == before - 10_000


def test_the_blocking_client_signs_in_too(x402_stack, x402_payer):
    from sandbox.payer import X402ClientSync

    url = f"{x402_stack.server_url}{ROUTE}"
    with X402ClientSync(x402_payer.keypair, rpc_url=x402_stack.rpc_url) as client:
        assert client.get(url).status == 200
        signed = client.sign_in(url)
    assert signed.signed_in, (signed.status, signed.rejection)
