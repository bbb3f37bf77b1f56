"""The paywall with an injected facilitator client, and the settlement rules without HTTP.

`ScriptedFacilitator` is an in-process FacilitatorApi: it answers /settle from a script (one
entry per call) and signs the payment's message with its fee-payer key, as a real one does.
"""

from __future__ import annotations

import base64

import httpx
import pytest
from server_payments import memo_transaction, pay_v2
from server_tiny_app import PAY_TO, tiny_app
from solders.keypair import Keypair
from solders.message import to_bytes_versioned
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol import (
    SettleResponse,
    SupportedResponse,
    VerifyResponse,
    decode_settle_response,
    reasons,
)
from sandbox.protocol.exact_svm.transaction import read_transaction
from sandbox.server import FacilitatorApi, FacilitatorTimeout, Paywall, SettlementNotProven
from sandbox.server.pending import PendingPayment
from sandbox.server.settlement import Receipt, Refusal, Settlement

NETWORK = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"


class ScriptedFacilitator:
    """Settle answers, one per call: "ok", "lie", "pending", "duplicate", "replay", or an
    exception to raise. Verify always says valid."""

    base_url = "in-process://facilitator"

    def __init__(self, *settles) -> None:
        self.key = Keypair()
        self.script = list(settles)
        self.calls = {"supported": 0, "verify": 0, "settle": 0}
        self.closed = False

    @property
    def fee_payer(self) -> str:
        return str(self.key.pubkey())

    async def supported(self) -> SupportedResponse:
        self.calls["supported"] += 1
        extra = {"feePayer": self.fee_payer}
        return SupportedResponse.model_validate(
            {"kinds": [{"x402Version": 2, "scheme": "exact", "network": NETWORK, "extra": extra}]}
        )

    async def verify(self, request: dict) -> VerifyResponse:
        self.calls["verify"] += 1
        return VerifyResponse(is_valid=True, payer="payer")

    async def settle(self, request: dict) -> SettleResponse:
        self.calls["settle"] += 1
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception):
            raise step
        raw = base64.b64decode(request["paymentPayload"]["payload"]["transaction"])
        signature = str(self.key.sign_message(_message(raw)))
        if step == "lie":
            return SettleResponse(
                success=True, transaction=str(Signature.new_unique()), network=NETWORK
            )
        if step in ("pending", "duplicate", "replay"):
            reason = {"pending": reasons.SETTLEMENT_PENDING}.get(step, reasons.DUPLICATE_SETTLEMENT)
            sent = "" if step == "replay" else signature
            return SettleResponse(
                success=False, error_reason=reason, transaction=sent, network=NETWORK
            )
        return SettleResponse(success=True, transaction=signature, network=NETWORK, payer="payer")

    async def close(self) -> None:
        self.closed = True


def _message(raw: bytes) -> bytes:
    return to_bytes_versioned(VersionedTransaction.from_bytes(raw).message)


def _payment(facilitator: ScriptedFacilitator):
    encoded = memo_transaction(Keypair(), facilitator.fee_payer, "x402.memo")
    request = {"x402Version": 2, "paymentPayload": {"payload": {"transaction": encoded}}}
    return request, read_transaction(encoded, "PAYMENT-SIGNATURE")


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
    request, tx = _payment(facilitator)

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
    request, tx = _payment(facilitator)
    refused = await settlement.settle(request, tx)
    assert isinstance(refused, Refusal) and isinstance(refused.failure, SettlementNotProven)
    assert tx.key not in settlement.pending  # nothing moved on our behalf: no resend to resolve


async def test_a_settle_that_times_out_is_kept_for_a_resend() -> None:
    facilitator = ScriptedFacilitator(FacilitatorTimeout("slow"), "duplicate")
    settlement = Settlement(facilitator, network=NETWORK)
    request, tx = _payment(facilitator)
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
    request, tx = _payment(facilitator)
    await settlement.settle(request, tx)
    refused = await settlement.resume(request, tx, settlement.unfinished(tx.key))
    assert isinstance(refused, Refusal) and refused.reason == reasons.DUPLICATE_SETTLEMENT
    assert refused.outcome == "not_settled" and tx.key in settlement.pending  # kept
