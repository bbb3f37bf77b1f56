"""The paywall: what happens to one request for a priced route.

    no payment header          -> 402: v1 JSON body + v2 PAYMENT-REQUIRED header
    malformed header           -> 400 naming the problem (the facilitator is not called)
    made for another request   -> 402 naming the mismatch (see binding.py)
    facilitator says invalid   -> 402 with its reason in `error`
    "authorization" route      -> verify, run the handler, settle only if it answered < 400
    "upfront" route            -> verify, settle, run the handler
    settled                    -> the handler's answer + PAYMENT-RESPONSE / X-PAYMENT-RESPONSE
    settlement_pending twice   -> 402 + receipt saying so; the same payment sent again later is
                                  settled again (which resolves it) and served once
    a payment identifier       -> looked up first: a resend gets the first answer (idempotent.py)
    SIGN-IN-WITH-X             -> on a route declaring it, checked before any payment: a wallet
                                  that paid for the route is served unpaid (sign_in.py)
    facilitator down/5xx/junk  -> 502, slower than the timeout -> 504; content never served
    fee payer not learned yet  -> 503

This module is the flow and the lifecycle (learning the fee payer). The offer and every answer
that is not content live in offer.py; settling, the pending record and what a receipt must prove
in settlement.py. A settlement receipt is believed only if its signature is the fee payer's
signature of this very transaction (and, with an RPC URL, only once the chain shows it confirmed
without error).

Where this differs from the official Python SDK's middleware (x402 2.x), on purpose:
- an exception while verifying becomes a 402 carrying the exception text there; here a
  facilitator failure is 502 (unreachable, 5xx, garbage) or 504 (timeout), so a client can tell
  "your payment is wrong" from "the server's payment service is broken";
- a settlement success is taken at its word there; here its signature must sign this payment;
- it keeps no record of settlements it started but could not finish (pending, timed out); here
  the same payment sent again is recognised, resolved and served once, and with
  `payment_record=` (a SQLite file, payment_record.py) after a restart or a kill -9 too;
- binding of a payment to its route: see binding.py.
As there, the facilitator client can be injected (`facilitator=`, any FacilitatorApi); the
default is the HTTP FacilitatorClient for `facilitator_url`, reporting to the metrics.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sandbox.events import CORRELATION, EventFeed
from sandbox.payment_ids import PaymentIdStore
from sandbox.protocol import (
    PAYMENT_RESPONSE,
    USDC_DEVNET_MINT,
    X_PAYMENT_RESPONSE,
    ProtocolError,
    reasons,
)
from sandbox.protocol.exact_svm.server import fee_payer_of
from sandbox.protocol.exact_svm.transaction import SCHEME
from sandbox.server._asgi import capture, send_captured, with_headers
from sandbox.server._payment import payment_header, read_payment
from sandbox.server.binding import BindingError, MemoBinder
from sandbox.server.errors import FacilitatorError
from sandbox.server.facilitator_client import FacilitatorApi, FacilitatorClient
from sandbox.server.idempotent import IdempotentPayments
from sandbox.server.metrics import PaywallMetrics
from sandbox.server.offer import (
    Offer,
    Offers,
    bad_request,
    facilitator_failed,
    malformed,
    not_ready,
    receipt_headers,
)
from sandbox.server.onchain import ChainReceiptCheck
from sandbox.server.payment_record import PaymentRecordFile
from sandbox.server.pending import PendingSettlements
from sandbox.server.pricing import PricedRoute, PriceError
from sandbox.server.settlement import Refusal, Settlement
from sandbox.server.sign_in import DEFAULT_ORIGIN, SignIns, SignInStore

__all__ = ["Paywall"]

log = logging.getLogger("sandbox.server")

_RECEIPT_HEADER = {2: PAYMENT_RESPONSE.lower().encode(), 1: X_PAYMENT_RESPONSE.lower().encode()}
_PAY_ME = (
    "send a payment for one of `accepts` in the PAYMENT-SIGNATURE header (v2, requirements in "
    "the PAYMENT-REQUIRED header) or X-PAYMENT (v1, this body)"
)


class Paywall:
    """The x402 middleware's state: its facilitator, its offers, its settlements."""

    def __init__(
        self,
        *,
        pay_to: str,
        facilitator_url: str | None = None,
        facilitator: FacilitatorApi | None = None,
        network: str = "solana-devnet",
        asset: str = USDC_DEVNET_MINT,
        facilitator_timeout: float = 10.0,
        memo_secret: bytes | None = None,
        rpc_url: str | None = None,
        metrics: PaywallMetrics | None = None,
        max_connections: int = 256,
        payment_record: str | Path | None = None,
        bugs: frozenset[str] = frozenset(),
        route_binding: str = "memo",
        public_origin: str = DEFAULT_ORIGIN,
    ) -> None:
        if facilitator is None and facilitator_url is None:
            raise ValueError("Paywall needs a facilitator_url or a facilitator client")
        self.bugs = bugs  # deliberate bugs (bugs.py): empty unless a test asks for them
        self.metrics = metrics or PaywallMetrics()
        if facilitator is None:
            facilitator = FacilitatorClient(
                facilitator_url,
                timeout=facilitator_timeout,
                max_connections=max_connections,
                observer=self.metrics.observe_facilitator,
            )
        self.facilitator = facilitator
        record = PaymentRecordFile(payment_record) if payment_record else None
        self.offers = Offers(
            pay_to=pay_to,
            network=network,
            asset=asset,
            binder=MemoBinder(memo_secret),
            bugs=bugs,
            route_binding=route_binding,
        )
        self.settlement = Settlement(
            facilitator,
            network=self.offers.network,
            chain_check=ChainReceiptCheck(rpc_url) if rpc_url else None,
            pending=PendingSettlements(record=record),
            bugs=bugs,
        )
        # payment-identifier answers, in the same SQLite file as the pending record
        self.ids = IdempotentPayments(
            PaymentIdStore(record.db, record.writer) if record else PaymentIdStore()
        )
        self.feed = EventFeed("server")  # every step of every payment (sandbox/events.py)
        # Sign-in-with-x: who paid which route and the nonces used, in the same file too.
        self.sign_ins = SignIns(
            self.offers, self.feed, origin=public_origin, secret=memo_secret, bugs=bugs,
            store=SignInStore(record.db, record.writer) if record else SignInStore(),
        )  # fmt: skip
        self.offers.fill_extensions = self.sign_ins.declare
        self.not_ready_reason = "the facilitator has not been asked yet"
        self._learning: asyncio.Task | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def fee_payer(self) -> str | None:
        return self.offers.fee_payer

    @fee_payer.setter
    def fee_payer(self, value: str | None) -> None:
        self.offers.fee_payer = value

    @property
    def pending(self) -> PendingSettlements:
        return self.settlement.pending

    @property
    def route_binding(self) -> str:
        """ "memo" (every 402 carries a memo bound to its request) or "none"."""
        return "memo" if self.offers.memo_binding else "none"

    @property
    def ready(self) -> bool:
        return self.offers.fee_payer is not None

    async def start(self) -> None:
        """Start learning the fee payer from GET /supported (retried until it answers)."""
        if self._learning is None:
            self._learning = asyncio.create_task(self._learn_fee_payer())

    async def wait_ready(self, timeout: float = 30.0) -> bool:
        await self.start()
        deadline = time.monotonic() + timeout
        while not self.ready and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.ready

    async def close(self) -> None:
        """Stop learning; close the facilitator client (injected or not), the chain check and the
        payment record."""
        if self._learning is not None:
            self._learning.cancel()
            await asyncio.gather(self._learning, return_exceptions=True)
            self._learning = None
        await self.facilitator.close()
        await self.settlement.close()

    async def _learn_fee_payer(self) -> None:
        delay = 0.05
        offers = self.offers
        while True:
            try:
                supported = await self.facilitator.supported()
                fee_payer = fee_payer_of(supported, (offers.network, offers.network_v1))
                if fee_payer is None:
                    listed = ", ".join(f"{k.scheme}@{k.network}" for k in supported.kinds)
                    raise ValueError(
                        f"facilitator {self.facilitator.base_url} offers no '{SCHEME}' payments "
                        f"with a feePayer on {offers.network} (it lists: {listed or 'nothing'})"
                    )
                self.fee_payer = fee_payer
                log.info("fee payer %s learned from %s", fee_payer, self.facilitator.base_url)
                return
            except (FacilitatorError, ValueError) as exc:
                self.not_ready_reason = str(exc)
                log.warning("facilitator not usable yet (retrying): %s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    # ------------------------------------------------------------------ one request

    async def handle(self, app, scope, receive, send, route: PricedRoute) -> None:
        started = time.perf_counter()
        outcome = "handler_exception"  # kept if the app raises (nothing is settled then)
        try:
            outcome = await self._handle(app, scope, receive, send, route)
        finally:
            self.metrics.observe_request(route.path, outcome, time.perf_counter() - started)

    async def _handle(self, app, scope, receive, send, route: PricedRoute) -> str:
        offers = self.offers
        if not self.ready:
            await self.start()
            await not_ready(send, self.facilitator.base_url, self.not_ready_reason)
            return "not_ready"
        try:
            offer = offers.price(scope, receive, route)
        except PriceError as exc:
            await bad_request(send, str(exc))
            return "bad_request"

        header, value = payment_header(scope)
        feed = self.feed
        if route.sign_in and (
            signed := await self.sign_ins.admit(
                app, scope, receive, send, offer, paying=value is not None
            )
        ):
            return signed
        if value is None:
            memo = await offers.challenge(send, offer, "Payment required", _PAY_ME)
            feed.publish("payment_required", correlation=memo, route=route.path,
                         amount=str(offer.amount), payTo=offer.pay_to)  # fmt: skip
            return "challenge"
        try:
            payload, tx = read_payment(header, value)
        except ProtocolError as exc:
            if "crash-on-malformed" in self.bugs:
                raise
            await malformed(send, exc)
            return "malformed"
        # One id across the components: the 402's memo the payment copied, else its identity.
        correlation = tx.memos[0] if tx.memos else tx.key[:32]
        CORRELATION.set(correlation)
        feed.publish(
            "payment_received", correlation=correlation, route=route.path,
            x402Version=payload.x402_version,
        )  # fmt: skip
        try:
            payment_id = (
                None
                if "ignore-payment-ids" in self.bugs
                else IdempotentPayments.payment_id(route, payload)
            )
        except ProtocolError as exc:
            await malformed(send, exc)
            feed.publish("refused", correlation=correlation, stage="payment-identifier",
                         reason=exc.reason, message=exc.message)  # fmt: skip
            return "malformed"
        wire = payload.to_wire()
        if payment_id is None:
            return await self._pay(app, scope, receive, send, offer, payload, wire, tx, correlation)

        def pay(recording: Callable) -> Awaitable[str]:
            return self._pay(app, scope, receive, recording, offer, payload, wire, tx, correlation)

        outcome, effect = await self.ids.run(
            f"{offer.method} {offer.path}", payment_id, wire, send, pay
        )
        if effect in ("replayed", "conflict", "busy"):  # else the payment's own steps tell it
            feed.publish("payment_id", correlation=correlation, paymentId=payment_id,
                         effect=effect)  # fmt: skip
        return outcome

    async def _pay(
        self, app, scope, receive, send, offer: Offer, payload, wire: dict, tx, correlation: str
    ) -> str:
        """Bind, verify, settle and serve one payment (its id, if any, was claimed already)."""
        offers, feed, route = self.offers, self.feed, offer.route
        try:
            requirements = offers.bound_requirements(offer, payload, tx)
        except BindingError as exc:
            await offers.challenge(send, offer, exc.reason, exc.message)
            feed.publish("refused", correlation=correlation, stage="binding",
                         reason=exc.reason, message=exc.message)  # fmt: skip
            return "wrong_payment"

        request = {
            "x402Version": payload.x402_version,
            "paymentPayload": wire,
            "paymentRequirements": requirements,
        }
        receipt_header = _RECEIPT_HEADER[payload.x402_version]
        settlement = self.settlement

        if (unfinished := settlement.unfinished(tx.key)) is not None:
            result = await settlement.resume(request, tx, unfinished)
            if isinstance(result, Refusal):
                return await self._refuse(send, offer, result, receipt_header, correlation)
            await self.sign_ins.record_paid(offer, result.settled.payer)
            headers = receipt_headers(receipt_header, result.settled)
            await app(scope, receive, with_headers(send, headers))
            return result.outcome

        verify_started = time.perf_counter()
        try:
            verdict = await self.facilitator.verify(request)
        except FacilitatorError as exc:
            feed.publish("refused", correlation=correlation, stage="verify", reason=exc.code,
                         message=str(exc))  # fmt: skip
            if "fail-open" in self.bugs:
                await app(scope, receive, send)
                return "paid"
            await facilitator_failed(send, exc, "verify")
            return exc.code
        feed.publish("verify", correlation=correlation, ok=verdict.is_valid,
                     reason=verdict.invalid_reason, message=verdict.invalid_message,
                     ms=round((time.perf_counter() - verify_started) * 1000, 3))  # fmt: skip
        if not verdict.is_valid:
            reason = verdict.invalid_reason or reasons.INVALID_PAYLOAD
            message = verdict.invalid_message or "the facilitator found the payment invalid"
            await offers.challenge(send, offer, reason, message)
            feed.publish("refused", correlation=correlation, stage="verify", reason=reason,
                         message=message)  # fmt: skip
            return "rejected"

        if "skip-settle" in self.bugs:
            await app(scope, receive, send)
            return "paid"
        if route.mode == "upfront":
            result = await self._settle(request, tx, correlation, offer)
            if isinstance(result, Refusal):
                return await self._refuse(send, offer, result, receipt_header, correlation)
            headers = receipt_headers(receipt_header, result.settled)
            await app(scope, receive, with_headers(send, headers))
            return result.outcome

        # An exception from the app propagates: the error middleware outside answers 500, and
        # nothing was settled.
        answer = await capture(app, scope, receive)
        feed.publish("handler", correlation=correlation, status=answer.status)
        if answer.status >= 400 and "settle-failed-handler" not in self.bugs:
            await send_captured(send, answer)
            return "handler_error"
        result = await self._settle(request, tx, correlation, offer)
        if isinstance(result, Refusal):
            return await self._refuse(send, offer, result, receipt_header, correlation)
        await send_captured(send, answer, receipt_headers(receipt_header, result.settled))
        return result.outcome

    async def _settle(self, request: dict, tx, correlation: str, offer: Offer):
        started = time.perf_counter()
        result = await self.settlement.settle(request, tx)
        ms = round((time.perf_counter() - started) * 1000, 3)
        if not isinstance(result, Refusal):
            settled = result.settled
            self.feed.publish(
                "settle", correlation=correlation, ok=True, ms=ms,
                transaction=settled.transaction, payer=settled.payer,
            )  # fmt: skip
            await self.sign_ins.record_paid(offer, settled.payer)
        return result

    async def _refuse(
        self, send, offer: Offer, refusal: Refusal, receipt_header: bytes, correlation=None
    ) -> str:
        """Answer a settlement that is not served: 502/504 or a 402; the metrics outcome."""
        self.feed.publish("refused", correlation=correlation, stage="settle",
                          reason=refusal.reason, message=refusal.message)  # fmt: skip
        if refusal.failure is not None:
            await facilitator_failed(send, refusal.failure, "settle")
        else:
            extra = (
                () if refusal.receipt is None else receipt_headers(receipt_header, refusal.receipt)
            )
            await self.offers.challenge(send, offer, refusal.reason, refusal.message, extra)
        return refusal.outcome
