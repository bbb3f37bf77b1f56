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
    facilitator down/5xx/junk  -> 502, slower than the timeout -> 504; content never served
    fee payer not learned yet  -> 503

A settlement receipt is believed only if its signature is the fee payer's signature of this very
transaction (and, with an RPC URL, only once the chain shows it confirmed without error).

Where this differs from the official Python SDK's middleware (x402 2.x), on purpose:
- an exception while verifying becomes a 402 carrying the exception text there; here a
  facilitator failure is 502 (unreachable, 5xx, garbage) or 504 (timeout), so a client can tell
  "your payment is wrong" from "the server's payment service is broken";
- a settlement success is taken at its word there; here its signature must sign this payment;
- it keeps no record of settlements it started but could not finish (pending, timed out); here
  the same payment sent again is recognised, resolved and served once;
- binding of a payment to its route: see binding.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from starlette.requests import Request

from sandbox.protocol import (
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    USDC_DEVNET_MINT,
    X_PAYMENT,
    X_PAYMENT_RESPONSE,
    PaymentPayload,
    ProtocolError,
    SettleResponse,
    SupportedResponse,
    decode_payment_payload,
    encode_json_header,
    reasons,
    to_caip2,
    to_v1,
)
from sandbox.server._asgi import capture, send_captured, send_json, with_headers
from sandbox.server._transaction import PaymentTransaction, read_transaction
from sandbox.server.binding import BindingError, MemoBinder, check_v1_payload, check_v2_accepted
from sandbox.server.errors import FacilitatorError, SettlementNotProven
from sandbox.server.facilitator_client import FacilitatorClient
from sandbox.server.metrics import PaywallMetrics
from sandbox.server.onchain import ChainReceiptCheck
from sandbox.server.pending import PendingPayment, PendingSettlements
from sandbox.server.pricing import PricedRoute, PriceError

__all__ = ["Paywall"]

log = logging.getLogger("sandbox.server")

SCHEME = "exact"
_PAYMENT_SIGNATURE = PAYMENT_SIGNATURE.lower().encode()
_X_PAYMENT = X_PAYMENT.lower().encode()
_NO_STORE = (b"cache-control", b"no-store")
_EXPOSE = (
    b"access-control-expose-headers",
    b"PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE",
)


@dataclass(frozen=True)
class _Offer:
    """One request to a priced route, priced."""

    route: PricedRoute
    method: str
    path: str
    url: str
    amount: int
    pay_to: str


class Paywall:
    """Shared state of the x402 middleware: facilitator client, fee payer, memos, pending record."""

    def __init__(
        self,
        *,
        facilitator_url: str,
        pay_to: str,
        network: str = "solana-devnet",
        asset: str = USDC_DEVNET_MINT,
        facilitator_timeout: float = 10.0,
        memo_secret: bytes | None = None,
        rpc_url: str | None = None,
        metrics: PaywallMetrics | None = None,
        max_connections: int = 256,
        bugs: frozenset[str] = frozenset(),
    ) -> None:
        self.bugs = bugs  # deliberate bugs (bugs.py): empty unless a test asks for them
        self.network = to_caip2(network)
        self.network_v1 = to_v1(network)
        self.asset = asset
        self.pay_to = pay_to
        self.metrics = metrics or PaywallMetrics()
        self.facilitator = FacilitatorClient(
            facilitator_url,
            timeout=facilitator_timeout,
            max_connections=max_connections,
            observer=self.metrics.observe_facilitator,
        )
        self.binder = MemoBinder(memo_secret)
        self.pending = PendingSettlements()
        self.chain_check = ChainReceiptCheck(rpc_url) if rpc_url else None
        self.fee_payer: str | None = None
        self.not_ready_reason = "the facilitator has not been asked yet"
        self._learning: asyncio.Task | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def ready(self) -> bool:
        return self.fee_payer is not None

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
        if self._learning is not None:
            self._learning.cancel()
            await asyncio.gather(self._learning, return_exceptions=True)
            self._learning = None
        await self.facilitator.close()
        if self.chain_check is not None:
            await self.chain_check.close()

    async def _learn_fee_payer(self) -> None:
        delay = 0.05
        while True:
            try:
                self.fee_payer = self._fee_payer_from(await self.facilitator.supported())
                log.info("fee payer %s learned from %s", self.fee_payer, self.facilitator.base_url)
                return
            except (FacilitatorError, ValueError) as exc:
                self.not_ready_reason = str(exc)
                log.warning("facilitator not usable yet (retrying): %s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _fee_payer_from(self, supported: SupportedResponse) -> str:
        for kind in supported.kinds:
            if kind.scheme == SCHEME and kind.network in (self.network, self.network_v1):
                fee_payer = (kind.extra or {}).get("feePayer")
                if isinstance(fee_payer, str) and fee_payer:
                    return fee_payer
        listed = ", ".join(f"{k.scheme}@{k.network}" for k in supported.kinds) or "nothing"
        raise ValueError(
            f"facilitator {self.facilitator.base_url} offers no '{SCHEME}' payments with a "
            f"feePayer on {self.network} (it lists: {listed})"
        )

    # ------------------------------------------------------------------ one request

    async def handle(self, app, scope, receive, send, route: PricedRoute) -> None:
        started = time.perf_counter()
        outcome = "handler_exception"  # kept if the app raises (nothing is settled then)
        try:
            outcome = await self._handle(app, scope, receive, send, route)
        finally:
            self.metrics.observe_request(route.path, outcome, time.perf_counter() - started)

    async def _handle(self, app, scope, receive, send, route: PricedRoute) -> str:
        if not self.ready:
            await self.start()
            await send_json(
                send,
                503,
                {
                    "error": "paywall_not_ready",
                    "message": "this route is paid and the server cannot sell it yet: it has "
                    "not learned the facilitator's fee payer from GET "
                    f"{self.facilitator.base_url}/supported ({self.not_ready_reason}); retry "
                    "shortly",
                },
                [_NO_STORE, (b"retry-after", b"1")],
            )
            return "not_ready"
        try:
            offer = self._offer(scope, receive, route)
        except PriceError as exc:
            await send_json(send, 400, {"error": "invalid_request", "message": str(exc)})
            return "bad_request"

        header, value = _payment_header(scope)
        if value is None:
            await self._challenge(
                send,
                offer,
                "Payment required",
                "send a payment for one of `accepts` in the PAYMENT-SIGNATURE header (v2, "
                "requirements in the PAYMENT-REQUIRED header) or X-PAYMENT (v1, this body)",
            )
            return "challenge"
        try:
            payload = decode_payment_payload(value, header)
            _check_header_version(header, payload.x402_version)
            tx = read_transaction(payload.payload.get("transaction"), header)
        except ProtocolError as exc:
            if "crash-on-malformed" in self.bugs:
                raise
            await send_json(send, 400, {"error": exc.reason, "message": exc.message}, [_NO_STORE])
            return "malformed"
        try:
            requirements = self._bound_requirements(offer, payload, tx)
        except BindingError as exc:
            await self._challenge(send, offer, exc.reason, exc.message)
            return "wrong_payment"

        request = {
            "x402Version": payload.x402_version,
            "paymentPayload": payload.to_wire(),
            "paymentRequirements": requirements,
        }
        receipt_header = PAYMENT_RESPONSE if payload.x402_version == 2 else X_PAYMENT_RESPONSE
        receipt_header_raw = receipt_header.lower().encode()

        if (unfinished := self.pending.take(tx.key)) is not None:
            return await self._resume(
                app, scope, receive, send, offer, request, tx, unfinished, receipt_header_raw
            )

        try:
            verdict = await self.facilitator.verify(request)
        except FacilitatorError as exc:
            if "fail-open" in self.bugs:
                await app(scope, receive, send)
                return "paid"
            await self._facilitator_failed(send, exc, "verify")
            return exc.code
        if not verdict.is_valid:
            await self._challenge(
                send,
                offer,
                verdict.invalid_reason or reasons.INVALID_PAYLOAD,
                verdict.invalid_message or "the facilitator found the payment invalid",
            )
            return "rejected"

        if "skip-settle" in self.bugs:
            await app(scope, receive, send)
            return "paid"
        if route.mode == "upfront":
            receipt = await self._settle_or_answer(send, offer, request, tx, receipt_header_raw)
            if receipt is None:
                return "not_settled"
            await app(
                scope, receive, with_headers(send, _receipt_headers(receipt_header_raw, receipt))
            )
            return "paid"

        # An exception from the app propagates: the error middleware outside answers 500, and
        # nothing was settled.
        answer = await capture(app, scope, receive)
        if answer.status >= 400 and "settle-failed-handler" not in self.bugs:
            await send_captured(send, answer)
            return "handler_error"
        receipt = await self._settle_or_answer(send, offer, request, tx, receipt_header_raw)
        if receipt is None:
            return "not_settled"
        await send_captured(send, answer, _receipt_headers(receipt_header_raw, receipt))
        return "paid"

    # ------------------------------------------------------------------ pricing and binding

    def _offer(self, scope, receive, route: PricedRoute) -> _Offer:
        request = Request(scope, receive)
        amount = route.amount(request) if route.dynamic else route.amount()
        return _Offer(
            route=route,
            method=scope["method"],
            path=scope["path"],
            url=str(request.url),
            amount=amount,
            pay_to=route.pay_to or self.pay_to,
        )

    def _requirements_v2(self, offer: _Offer, memo: str) -> dict:
        return {
            "scheme": SCHEME,
            "network": self.network,
            "amount": str(offer.amount),
            "asset": self.asset,
            "payTo": offer.pay_to,
            "maxTimeoutSeconds": offer.route.max_timeout_seconds,
            "extra": {"feePayer": self.fee_payer, "memo": memo},
        }

    def _requirements_v1(self, offer: _Offer, memo: str) -> dict:
        return {
            "scheme": SCHEME,
            "network": self.network_v1,
            "maxAmountRequired": str(offer.amount),
            "resource": offer.url,
            "description": offer.route.description,
            "mimeType": offer.route.mime_type,
            "payTo": offer.pay_to,
            "maxTimeoutSeconds": offer.route.max_timeout_seconds,
            "asset": self.asset,
            "extra": {"feePayer": self.fee_payer, "memo": memo},
        }

    def _memo_is_ours(self, memo: str, offer: _Offer) -> bool:
        return self.binder.valid(
            memo, offer.method, offer.path, offer.amount, self.network, self.asset, offer.pay_to
        )

    def _bound_requirements(self, offer: _Offer, payload, tx: PaymentTransaction) -> dict:
        """The requirements this payment must meet here, or BindingError if made for elsewhere."""
        where = f"{offer.method} {offer.path} at {offer.amount} atomic units"
        if "skip-route-binding" in self.bugs:
            if isinstance(payload, PaymentPayload):
                return payload.accepted.to_wire()
            return self._requirements_v1(offer, tx.memos[0] if tx.memos else "")
        if isinstance(payload, PaymentPayload):
            memo = payload.accepted.memo
            if memo is None or not self._memo_is_ours(memo, offer):
                raise BindingError(
                    reasons.SVM_MEMO_MISMATCH,
                    f"accepted.extra.memo was not issued by this server for {where}: pay the "
                    "requirements of this route's own 402",
                )
            if memo not in tx.memos:
                raise BindingError(
                    reasons.SVM_MEMO_MISMATCH,
                    "the transaction's memo is not the accepted.extra.memo it claims to pay",
                )
            offered = self._requirements_v2(offer, memo)
            check_v2_accepted(payload, offered, offer.path)
            return offered
        check_v1_payload(payload, SCHEME, self.network_v1)
        for memo in tx.memos:
            if self._memo_is_ours(memo, offer):
                return self._requirements_v1(offer, memo)
        raise BindingError(
            reasons.SVM_MEMO_MISMATCH,
            f"the transaction carries no memo issued by this server for {where}: pay the "
            "extra.memo of this route's own 402",
        )

    # ------------------------------------------------------------------ settlement

    async def _settle(self, request: dict, tx: PaymentTransaction) -> SettleResponse:
        """Settle; `settlement_pending` is retried once. A success must prove itself."""
        receipt = await self.facilitator.settle(request)
        if not receipt.success and receipt.error_reason == reasons.SETTLEMENT_PENDING:
            receipt = await self.facilitator.settle(request)
        if receipt.success:
            await self._believe(receipt, tx)
        return receipt

    async def _believe(self, receipt: SettleResponse, tx: PaymentTransaction) -> None:
        if "trust-receipts" in self.bugs:
            return
        if not tx.signed_by_fee_payer(receipt.transaction):
            raise SettlementNotProven(
                f"the facilitator reported success with transaction {receipt.transaction!r}, "
                "which is not the fee payer's signature of this payment"
            )
        if self.chain_check is not None:
            problem = await self.chain_check.problem(receipt.transaction)
            if problem is not None:
                raise SettlementNotProven(f"the facilitator reported success but {problem}")

    async def _settle_or_answer(
        self, send, offer: _Offer, request: dict, tx: PaymentTransaction, receipt_header: bytes
    ) -> SettleResponse | None:
        """The settled receipt, or None after answering the client why not."""
        try:
            receipt = await self._settle(request, tx)
        except FacilitatorError as exc:
            if "fail-open" in self.bugs:
                return SettleResponse(success=False, error_reason=exc.code, network=self.network)
            if not isinstance(exc, SettlementNotProven):
                # The money may have moved: a resend of this payment resolves rather than replays.
                self.pending.put(tx.key, PendingPayment(receipt=None))
            await self._facilitator_failed(send, exc, "settle")
            return None
        if receipt.success or "serve-unsettled" in self.bugs:
            self.pending.mark_served(tx.key)
            return receipt
        await self._settle_failed(send, offer, tx, receipt, receipt_header)
        return None

    async def _settle_failed(
        self, send, offer: _Offer, tx, receipt: SettleResponse, receipt_header: bytes
    ) -> None:
        if receipt.error_reason == reasons.SETTLEMENT_PENDING:
            self.pending.put(tx.key, PendingPayment(receipt=receipt))
            message = (
                f"settlement of transaction {receipt.transaction or '(unknown)'} is still pending "
                "on chain: send the same payment again shortly to get the content once it has "
                "settled (it will not be charged twice)"
            )
        else:
            message = receipt.error_message or "the facilitator could not settle the payment"
        await self._challenge(
            send,
            offer,
            receipt.error_reason or reasons.UNEXPECTED_SETTLE_ERROR,
            message,
            _receipt_headers(receipt_header, receipt),
        )

    async def _resume(
        self, app, scope, receive, send, offer, request, tx, unfinished, receipt_header
    ) -> str:
        """A resend of a payment whose settlement we started: settle again, serve it once."""
        if self.pending.was_served(tx.key):  # a twin request of it was served already
            return await self._already_served(send, offer)
        try:
            receipt = await self.facilitator.settle(request)
            if not receipt.success and receipt.error_reason == reasons.DUPLICATE_SETTLEMENT:
                receipt = await self._settled_earlier(receipt, unfinished, tx)
            elif receipt.success:
                await self._believe(receipt, tx)
        except FacilitatorError as exc:
            self.pending.put(tx.key, unfinished)
            await self._facilitator_failed(send, exc, "settle")
            return exc.code
        if not receipt.success:
            if receipt.error_reason == reasons.SETTLEMENT_PENDING:
                unfinished.receipt = receipt
                self.pending.put(tx.key, unfinished)
            elif receipt.error_reason == reasons.DUPLICATE_SETTLEMENT:
                # Unproven (still in flight elsewhere, or a replayed nonce): a later resend may
                # find it settled with its signature.
                self.pending.put(tx.key, unfinished)
            await self._settle_failed(send, offer, tx, receipt, receipt_header)
            return (
                "pending" if receipt.error_reason == reasons.SETTLEMENT_PENDING else "not_settled"
            )
        if self.pending.was_served(tx.key):  # its twin was served while we were settling
            return await self._already_served(send, offer)
        self.pending.mark_served(tx.key)
        await app(scope, receive, with_headers(send, _receipt_headers(receipt_header, receipt)))
        return "paid_after_pending"

    async def _already_served(self, send, offer: _Offer) -> str:
        await self._challenge(
            send,
            offer,
            reasons.DUPLICATE_SETTLEMENT,
            "this payment was already settled and served by this server",
        )
        return "not_settled"

    async def _settled_earlier(
        self, duplicate: SettleResponse, unfinished: PendingPayment, tx: PaymentTransaction
    ) -> SettleResponse:
        """`duplicate_settlement` on a resend: a success only if proven to be this payment.

        A facilitator says it both for a payment it settled (an earlier call of ours that never
        got to serve it) and for a replayed memo nonce (another transaction, which may have paid
        someone else one unit); only the fee payer's signature of this very transaction tells
        them apart. A signature remembered from an earlier settlement_pending answer proves only
        that it was sent, so it counts only when the chain check confirms it landed.
        """
        earlier = unfinished.receipt
        signature = duplicate.transaction
        if not (signature and tx.signed_by_fee_payer(signature)):
            signature = earlier.transaction if earlier and self.chain_check is not None else ""
            if not (signature and tx.signed_by_fee_payer(signature)):
                return duplicate  # nothing proves this paid: not served (yet)
        receipt = SettleResponse(
            success=True,
            transaction=signature,
            network=duplicate.network,
            payer=duplicate.payer or (earlier.payer if earlier else None),
            amount=duplicate.amount,
        )
        await self._believe(receipt, tx)
        return receipt

    # ------------------------------------------------------------------ answers

    async def _challenge(self, send, offer: _Offer, error: str, message: str, headers=()) -> None:
        memo = self.binder.issue(
            offer.method, offer.path, offer.amount, self.network, self.asset, offer.pay_to
        )
        route = offer.route
        required = {
            "x402Version": 2,
            "error": error,
            "resource": {
                "url": offer.url,
                "description": route.description,
                "mimeType": route.mime_type,
            },
            "accepts": [self._requirements_v2(offer, memo)],
        }
        body = {
            "x402Version": 1,
            "error": error,
            "message": message,
            "accepts": [self._requirements_v1(offer, memo)],
        }
        await send_json(
            send,
            402,
            body,
            [
                (b"payment-required", encode_json_header(required).encode()),
                _NO_STORE,
                _EXPOSE,
                *headers,
            ],
        )

    async def _facilitator_failed(self, send, exc: FacilitatorError, call: str) -> None:
        log.warning("facilitator %s failed: %s", call, exc.message)
        await send_json(
            send,
            exc.status,
            {
                "error": exc.code,
                "message": f"payment not {'verified' if call == 'verify' else 'settled'}, "
                f"content not served: {exc.message}",
            },
            [_NO_STORE],
        )


def _payment_header(scope) -> tuple[str, bytes | None]:
    x_payment = None
    for name, value in scope["headers"]:
        if name == _PAYMENT_SIGNATURE:
            return PAYMENT_SIGNATURE, value
        if name == _X_PAYMENT:
            x_payment = value
    return X_PAYMENT, x_payment


def _check_header_version(header: str, version: int) -> None:
    if header == PAYMENT_SIGNATURE and version != 2:
        raise ProtocolError(
            f"{header}: carries an x402Version {version} payload; v1 payments go in X-PAYMENT",
            reason=reasons.INVALID_X402_VERSION,
        )
    if header == X_PAYMENT and version != 1:
        raise ProtocolError(
            f"{header}: carries an x402Version {version} payload; v2 payments go in "
            "PAYMENT-SIGNATURE",
            reason=reasons.INVALID_X402_VERSION,
        )


def _receipt_headers(name: bytes, receipt: SettleResponse) -> list[tuple[bytes, bytes]]:
    return [(name, encode_json_header(receipt).encode()), _EXPOSE, _NO_STORE]
