"""The paywall's side of `payment-identifier`: a payment that carries an id is looked up before
anything else is done with it (before binding, verification or settlement).

    first time                  processed as usual; its answer is kept if it was served paid
    same id, same payload       the kept answer, byte for byte (status, headers with
                                PAYMENT-RESPONSE, body): no second verification or settlement
    same id, same payload,      waits for the first and gets its answer
      while the first runs
    same id, another payload    409 payment_identifier_conflict
    route requires an id, none  400 payment_identifier_required
    an id that breaks the rule  400 invalid_payment_identifier

Ids are scoped to the route (method and path). Only a paid answer is kept. An answer that
moved no money (refused by binding or by the facilitator, the handler failed before settling)
frees the id; any other (settlement pending, the facilitator failed while settling) keeps it
bound to its payload without an answer, so a resend of that payload is processed again (the
pending record resolves it) and any other payload is still a conflict.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable

import orjson

from sandbox.payment_ids import PaymentIdStore
from sandbox.protocol import AnyPayload, ProtocolError, reasons
from sandbox.protocol.payment_identifier import payload_fingerprint, read_payment_id
from sandbox.server._asgi import send_json
from sandbox.server.pending import ANSWER_FOLLOWS
from sandbox.server.pricing import PricedRoute

__all__ = ["KEPT_OUTCOMES", "IdempotentPayments"]

# Served paid: the answer is kept. (settlement.py Receipt outcomes)
KEPT_OUTCOMES = frozenset({"paid", "paid_after_pending"})
# Nothing was charged: the id is free again.
_FREED_OUTCOMES = frozenset({"wrong_payment", "rejected", "handler_error"})
_NO_STORE = (b"cache-control", b"no-store")


class IdempotentPayments:
    def __init__(self, store: PaymentIdStore) -> None:
        self.store = store

    @staticmethod
    def payment_id(route: PricedRoute, payload: AnyPayload) -> str | None:
        """The payment's id on a route that declares the extension (else None); ProtocolError
        when it is malformed, or missing where the route requires one."""
        if route.payment_identifier == "off":
            return None
        payment_id = read_payment_id(getattr(payload, "extensions", None))
        if payment_id is None and route.payment_identifier == "required":
            raise ProtocolError(
                f"{route.path} requires a payment identifier: put an id (16-128 characters of "
                'A-Z a-z 0-9 - _) in paymentPayload.extensions["payment-identifier"].info.id'
                + ("; v1 payments cannot carry one, pay with v2" if payload.x402_version == 1
                   else ""),
                reason=reasons.PAYMENT_IDENTIFIER_REQUIRED,
            )  # fmt: skip
        return payment_id

    async def run(
        self,
        scope_key: str,
        payment_id: str,
        wire: dict,
        send,
        process: Callable[[Callable], Awaitable[str]],
    ) -> tuple[str, str]:
        """Answer the request once per (route, id), `wire` the payload's JSON object: (metrics
        outcome, what the id did)."""
        key = f"{scope_key} {payment_id}"
        fingerprint = payload_fingerprint(wire)
        claim = await self.store.claim(key, fingerprint)
        if claim.kind == "replay":
            await _replay(send, claim.answer)
            return "replayed", "replayed"
        if claim.kind == "conflict":
            await send_json(send, 409, {
                "error": reasons.PAYMENT_IDENTIFIER_CONFLICT,
                "message": f"payment id {payment_id} was first used with another payment on "
                "this route; a retry must resend the identical payment, a new payment needs a "
                "new id",
            }, [_NO_STORE])  # fmt: skip
            return "id_conflict", "conflict"
        if claim.kind == "busy":
            await send_json(send, 503, {
                "error": "payment_in_flight",
                "message": f"payment id {payment_id} is still being processed; retry shortly",
            }, [_NO_STORE, (b"retry-after", b"1")])  # fmt: skip
            return "id_busy", "busy"
        recorder = _Recorder()
        outcome = "handler_exception"
        # finish() below writes and waits: the served mark of this payment may share it.
        follows = ANSWER_FOLLOWS.set(self.store.writer is not None)
        try:
            outcome = await process(recorder.send)
        finally:
            ANSWER_FOLLOWS.reset(follows)
            answer = recorder.encode() if outcome in KEPT_OUTCOMES else None
            freed = outcome in _FREED_OUTCOMES
            await self.store.finish(key, fingerprint, answer, keep=not freed)
        await recorder.replay(send)
        return outcome, "kept" if answer is not None else ("freed" if freed else "bound")


class _Recorder:
    """An ASGI `send` that keeps the answer, so it is stored before the client sees it."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def send(self, message: dict) -> None:
        self.messages.append(message)

    def encode(self) -> bytes:
        status, headers, body = 500, [], b""
        for message in self.messages:
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [[k.decode("latin-1"), v.decode("latin-1")]
                           for k, v in message.get("headers", ())]  # fmt: skip
            elif message["type"] == "http.response.body":
                body += message.get("body", b"")
        return orjson.dumps(
            {"status": status, "headers": headers, "body": base64.b64encode(body).decode()}
        )

    async def replay(self, send) -> None:
        for message in self.messages:
            await send(message)


async def _replay(send, answer: bytes) -> None:
    kept = orjson.loads(answer)
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept["headers"]]
    await send({"type": "http.response.start", "status": kept["status"], "headers": headers})
    await send({"type": "http.response.body", "body": base64.b64decode(kept["body"])})
