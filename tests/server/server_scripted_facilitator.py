"""`ScriptedFacilitator`: an in-process FacilitatorApi for the server's settlement tests.

It answers /settle from a script (one entry per call) and signs the payment's message with its
fee-payer key, as a real one does; `payment(facilitator)` makes a request and its transaction.
"""

from __future__ import annotations

import asyncio
import base64

from server_payments import memo_transaction
from solders.keypair import Keypair
from solders.message import to_bytes_versioned
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol import SettleResponse, SupportedResponse, VerifyResponse, reasons
from sandbox.protocol.exact_svm.transaction import read_transaction

NETWORK = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"


class ScriptedFacilitator:
    """Settle answers, one per call: "ok", "lie", "pending", "duplicate", "replay", "hang"
    (never answers: `settling` is set, as for a server killed while the facilitator settles),
    or an exception to raise. Verify always says valid."""

    base_url = "in-process://facilitator"

    def __init__(self, *settles) -> None:
        self.key = Keypair()
        self.script = list(settles)
        self.calls = {"supported": 0, "verify": 0, "settle": 0}
        self.closed = False
        self.settling = asyncio.Event()  # set once a settle call has arrived

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
        self.settling.set()
        step = self.script.pop(0) if self.script else "ok"
        if step == "hang":
            await asyncio.Event().wait()
        if isinstance(step, Exception):
            raise step
        raw = base64.b64decode(request["paymentPayload"]["payload"]["transaction"])
        signature = str(self.key.sign_message(message_of(raw)))
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


def message_of(raw: bytes) -> bytes:
    return to_bytes_versioned(VersionedTransaction.from_bytes(raw).message)


def payment(facilitator: ScriptedFacilitator):
    encoded = memo_transaction(Keypair(), facilitator.fee_payer, "x402.memo")
    request = {"x402Version": 2, "paymentPayload": {"payload": {"transaction": encoded}}}
    return request, read_transaction(encoded, "PAYMENT-SIGNATURE")
