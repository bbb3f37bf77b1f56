"""The facilitator's side of `payment-identifier`: /settle and /verify of a v2 payment that
carries an id, scoped to the merchant (`payTo`).

    /settle, first time          settled as usual; a success is kept
    /settle, same id and payload the kept answer (success, its transaction), not
                                 duplicate_settlement: the server that lost the first answer
                                 learns it was paid
    /settle while the first runs waits for it and gets its answer
    same id, another payload     409 payment_identifier_conflict (settle and verify)
    /verify, same id and payload valid when its settlement was kept (it is paid; the settle
                                 that follows gets the kept answer), else verified as usual

A settlement that moved no money (refused by a check, failed on chain) frees the id; one whose
outcome is not known yet (settlement_pending, the chain unavailable) keeps it bound to its
payload. The records are a SQLite file beside the ledger's (ledger.py), so they survive
restarts with the settlements they answer for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson

from sandbox.payment_ids import PaymentIdStore
from sandbox.protocol import FacilitatorRequest, FacilitatorRequestV1, reasons
from sandbox.protocol.exact_svm.wire import settle_failure, verify_invalid
from sandbox.protocol.payment_identifier import payload_fingerprint, read_payment_id

__all__ = ["FacilitatorIds"]

Answer = tuple[int, dict]
_UNKNOWN_OUTCOME = frozenset({reasons.SETTLEMENT_PENDING, reasons.UNEXPECTED_SETTLE_ERROR})


# (operation, effect, key) for an answer the id decided: replayed, conflict or busy
EffectHook = Callable[[str, str, str], None]


class FacilitatorIds:
    def __init__(self, facilitator, on_effect: EffectHook | None = None) -> None:
        self._facilitator = facilitator  # its store is opened by Facilitator.start()
        self._on_effect = on_effect or (lambda operation, effect, key: None)

    @property
    def store(self) -> PaymentIdStore:
        return self._facilitator.payment_ids

    @staticmethod
    def key_of(request: FacilitatorRequest | FacilitatorRequestV1) -> tuple[str, str] | None:
        """(key, fingerprint) of a payment with an id; None without one (v1 carries none).
        ProtocolError when the id is malformed."""
        if request.x402_version != 2:
            return None
        payment_id = read_payment_id(request.payment_payload.extensions)
        if payment_id is None:
            return None
        key = f"{request.payment_requirements.pay_to} {payment_id}"
        return key, payload_fingerprint(request.payment_payload.to_wire())

    async def settle(self, key: str, fingerprint: str, run: Callable[[], Awaitable[Answer]]):
        claim = await self.store.claim(key, fingerprint)
        if claim.kind != "new":
            self._on_effect("settle", "replayed" if claim.kind == "replay" else claim.kind, key)
        if claim.kind == "replay":
            return 200, orjson.loads(claim.answer)
        if claim.kind == "conflict":
            return 409, settle_failure(reasons.PAYMENT_IDENTIFIER_CONFLICT, _conflict(key))
        if claim.kind == "busy":
            message = "this payment is still being settled by another request; retry shortly"
            return 503, settle_failure(reasons.UNEXPECTED_SETTLE_ERROR, message)
        status, body = 500, None
        try:
            status, body = await run()
        finally:
            kept = body is not None and status == 200 and body.get("success") is True
            unknown = body is None or status >= 500 or body.get("errorReason") in _UNKNOWN_OUTCOME
            answer = orjson.dumps(body) if kept else None
            await self.store.finish(key, fingerprint, answer, keep=unknown)
        return status, body

    async def verify(self, key: str, fingerprint: str, run: Callable[[], Awaitable[Answer]]):
        bound = self.store.peek(key)
        if bound is not None and bound[0] != fingerprint:
            self._on_effect("verify", "conflict", key)
            return 409, verify_invalid(reasons.PAYMENT_IDENTIFIER_CONFLICT, _conflict(key))
        if bound is not None and bound[1] is not None:
            self._on_effect("verify", "replayed", key)
            settled = orjson.loads(bound[1])
            return 200, {"isValid": True, "payer": settled.get("payer")}
        return await run()


def _conflict(key: str) -> str:
    pay_to, payment_id = key.split(" ", 1)
    return (
        f"payment id {payment_id} was first used with another payment to {pay_to}; a retry must "
        "resend the identical payment, a new payment needs a new id"
    )
