"""A payment resent after an unfinished settlement is served only once it is proven paid.

Real chain, facilitator and server. The server keeps a record of settlements it started but did
not see finish; a resend of that payment is settled again. A `duplicate_settlement` answer then
is no proof the payment moved money: the row may still be in flight, or the memo nonce may have
been spent by another transaction the client made.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from server_stack import PaidStack, paid_stack, wait_for_first_402
from solders.keypair import Keypair

from sandbox.payer import X402Client
from sandbox.protocol import decode_payment_required


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> PaidStack:
    with paid_stack(tmp_path_factory.mktemp("resend-stack")) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults(stack):
    yield
    stack.faults()
    stack.rpc.call("sandbox_setFaults", {"dropRate": 0.0, "latencyMs": 0})


async def _challenge_and_payment(stack: PaidStack, url: str, payer: Keypair):
    async with httpx.AsyncClient(timeout=30) as http:
        challenge = await http.get(url)
    required = decode_payment_required(challenge.headers["PAYMENT-REQUIRED"])
    async with X402Client(payer, rpc_url=stack.rpc_url) as client:
        payment = await client.prepare(required.accepts[0], required.resource)
    return required, payment


async def test_nonce_spent_elsewhere_does_not_unlock_a_pending_payment(stack):
    """Settle fails at the facilitator before it claims anything; the client then spends the
    challenge's memo on a 1-unit transfer to itself, and resends the original payment."""
    payer = stack.new_payer()
    merchant_before = stack.rpc.usdc(stack.merchant)
    url = stack.server_url + "/api/premium-content"
    required, payment = await _challenge_and_payment(stack, url, payer)

    stack.faults({"endpoint": "settle", "kind": "html502"})
    async with httpx.AsyncClient(timeout=30) as http:
        first = await http.get(url, headers=payment.headers)
    assert first.status_code == 502, first.text
    stack.faults()

    # Same memo, the client's own wallet as payTo, one atomic unit: settled straight away.
    own = str(Keypair().pubkey())
    stack.rpc.call("sandbox_mintTo", own, 0)
    cheap_terms = required.accepts[0].model_copy(update={"amount": "1", "pay_to": own})
    async with X402Client(payer, rpc_url=stack.rpc_url) as client:
        cheap = await client.prepare(cheap_terms, required.resource)
    assert cheap.memo == payment.memo
    settled = httpx.post(stack.facilitator_url + "/settle", json=cheap.facilitator_body()).json()
    assert settled["success"] is True, settled

    async with httpx.AsyncClient(timeout=30) as http:
        resent = await http.get(url, headers=payment.headers)
    assert resent.status_code == 402, resent.text
    assert resent.json()["error"] == "duplicate_settlement"
    assert stack.rpc.usdc(stack.merchant) == merchant_before


async def test_resend_while_the_first_settle_is_in_flight_is_not_served(stack):
    """The server gives up on /settle while the facilitator is still sending (the transaction
    will never land); a resend must not be served on the strength of `duplicate_settlement`."""
    server_url, server = stack.start_server(
        "server-short-timeout",
        "--facilitator-url",
        stack.facilitator_url,
        "--facilitator-timeout",
        "2",
    )
    try:
        wait_for_first_402(server_url)
        payer = stack.new_payer()
        merchant_before = stack.rpc.usdc(stack.merchant)
        url = server_url + "/api/premium-content"
        _, payment = await _challenge_and_payment(stack, url, payer)
        # Every chain call takes 1.2 s and sends are lost: verify (one simulation) fits in the
        # server's 2 s, settle (simulation + send + wait) does not.
        stack.rpc.call("sandbox_setFaults", {"latencyMs": 1200, "dropRate": 1.0})
        async with httpx.AsyncClient(timeout=30) as http:
            first = await http.get(url, headers=payment.headers)
            assert first.status_code == 504, first.text
            resent = await http.get(url, headers=payment.headers)
        assert resent.status_code == 402, resent.text
        assert resent.json()["error"] == "duplicate_settlement"
        stack.rpc.call("sandbox_setFaults", {"latencyMs": 0, "dropRate": 0.0})
        assert stack.rpc.usdc(stack.merchant) == merchant_before
        # Once the facilitator is done with it, the same payment is settled and served once.
        statuses = []
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(60):
                again = await http.get(url, headers=payment.headers)
                statuses.append((again.status_code, again.json().get("error")))
                if again.status_code == 200:
                    break
                await asyncio.sleep(0.25)
            assert again.status_code == 200, statuses
            assert again.json()["kind"] == "premium"
            assert (await http.get(url, headers=payment.headers)).status_code == 402
        assert stack.rpc.usdc(stack.merchant) == merchant_before + 10_000
    finally:
        server.stop()
