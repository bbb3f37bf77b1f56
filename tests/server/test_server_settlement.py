"""The paywall with an injected facilitator client, and the settlement rules without HTTP.

`ScriptedFacilitator` (server_scripted_facilitator.py) is an in-process FacilitatorApi.
"""

from __future__ import annotations

import httpx
import pytest
from server_payments import pay_v2
from server_scripted_facilitator import NETWORK, ScriptedFacilitator, payment
from server_tiny_app import PAY_TO, tiny_app

from sandbox.protocol import decode_settle_response, reasons
from sandbox.server import FacilitatorApi, FacilitatorTimeout, Paywall, SettlementNotProven
from sandbox.server.pending import PendingPayment
from sandbox.server.settlement import Receipt, Refusal, Settlement


async def test_paywall_uses_an_injected_facilitator_client(payer) -> None:
    facilitator: FacilitatorApi = ScriptedFacilitator()
    paywall = Paywall(pay_to=PAY_TO, facilitator=facilitator)
    app, runs = tiny_app(paywall)
    assert await paywall.wait_ready(5)
    assert paywall.fee_payer == facilitator.fee_payer
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/a", headers=pay_v2(await client.get("/a"), payer))
    await paywall.close()
    assert response.status_code == 200, response.text
    receipt = decode_settle_response(response.headers["PAYMENT-RESPONSE"], "PAYMENT-RESPONSE")
    assert receipt.success and runs["a"] == 1
    assert facilitator.calls == {"supported": 1, "verify": 1, "settle": 1}
    assert facilitator.closed


def test_a_paywall_needs_a_facilitator() -> None:
    with pytest.raises(ValueError, match="facilitator"):
        Paywall(pay_to=PAY_TO)


async def test_pending_twice_is_kept_then_resolved_once_by_a_resend() -> None:
    facilitator = ScriptedFacilitator("pending", "pending", "ok")
    settlement = Settlement(facilitator, network=NETWORK)
    request, tx = payment(facilitator)

    refused = await settlement.settle(request, tx)
    assert isinstance(refused, Refusal) and refused.failure is None
    assert (refused.outcome, refused.reason) == ("not_settled", reasons.SETTLEMENT_PENDING)
    assert refused.receipt is not None and "send the same payment again" in refused.message
    assert tx.key in settlement.pending

    unfinished = settlement.unfinished(tx.key)
    assert unfinished is not None and tx.key not in settlement.pending  # taken while resolving
    served = await settlement.resume(request, tx, unfinished)
    assert isinstance(served, Receipt) and served.outcome == "paid_after_pending"
    assert served.settled.success and settlement.pending.was_served(tx.key)

    again = await settlement.resume(request, tx, PendingPayment(receipt=None))
    assert isinstance(again, Refusal) and again.reason == reasons.DUPLICATE_SETTLEMENT
    assert facilitator.calls["settle"] == 3  # an already-served payment is not settled again


async def test_a_receipt_that_does_not_sign_this_payment_is_not_believed() -> None:
    facilitator = ScriptedFacilitator("lie")
    settlement = Settlement(facilitator, network=NETWORK)
    request, tx = payment(facilitator)
    refused = await settlement.settle(request, tx)
    assert isinstance(refused, Refusal) and isinstance(refused.failure, SettlementNotProven)
    assert tx.key not in settlement.pending  # nothing moved on our behalf: no resend to resolve


async def test_a_settle_that_times_out_is_kept_for_a_resend() -> None:
    facilitator = ScriptedFacilitator(FacilitatorTimeout("slow"), "duplicate")
    settlement = Settlement(facilitator, network=NETWORK)
    request, tx = payment(facilitator)
    refused = await settlement.settle(request, tx)
    assert isinstance(refused, Refusal) and isinstance(refused.failure, FacilitatorTimeout)
    unfinished = settlement.unfinished(tx.key)
    assert unfinished is not None and unfinished.receipt is None
    # duplicate_settlement carrying the fee payer's signature of this payment: settled earlier.
    served = await settlement.resume(request, tx, unfinished)
    assert isinstance(served, Receipt) and served.settled.success


async def test_a_replayed_nonce_does_not_resolve_a_resend() -> None:
    facilitator = ScriptedFacilitator(FacilitatorTimeout("slow"), "replay")
    settlement = Settlement(facilitator, network=NETWORK)
    request, tx = payment(facilitator)
    await settlement.settle(request, tx)
    refused = await settlement.resume(request, tx, settlement.unfinished(tx.key))
    assert isinstance(refused, Refusal) and refused.reason == reasons.DUPLICATE_SETTLEMENT
    assert refused.outcome == "not_settled" and tx.key in settlement.pending  # kept
