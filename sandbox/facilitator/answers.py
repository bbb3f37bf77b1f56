"""The one place that turns results of verify and settle into answers.

`Verifier.verify` and `Settler.settle` return a `VerifyResult` / `SettleResult` (results.py);
`Answers` renders each exactly once: the wire body, the metrics (latency histogram, outcome
counter) and the history read by /_sandbox/settlements and /_sandbox/rejections. Every
rejection record has one shape, whether the body did not parse or the chain refused it.
"""

from __future__ import annotations

import time
from collections import deque

from sandbox.events import EventFeed
from sandbox.facilitator.metrics import FacilitatorMetrics
from sandbox.facilitator.results import SUCCESS, SettleResult, VerifyResult
from sandbox.facilitator.service import payer_hint
from sandbox.protocol import reasons
from sandbox.protocol.exact_svm import wire
from sandbox.protocol.models import FacilitatorRequest, FacilitatorRequestV1

__all__ = ["Answers"]

Request = FacilitatorRequest | FacilitatorRequestV1


class Answers:
    """Wire bodies, metrics and history from results; one call per answered request."""

    def __init__(
        self, metrics: FacilitatorMetrics, history: int = 1000, feed: EventFeed | None = None
    ) -> None:
        self.metrics = metrics
        self.settlements: deque[dict] = deque(maxlen=history)
        self.rejections: deque[dict] = deque(maxlen=history)
        self.feed = feed or EventFeed("facilitator")

    def verify(
        self, request: Request, result: VerifyResult, correlation: str | None = None
    ) -> dict:
        self.metrics.verify_seconds.observe(result.seconds)
        payer = result.payer or payer_hint(request)
        ok = result.reason is None
        self._publish(
            "verify", request, correlation, result.seconds, payer,
            ok=ok, reason=result.reason, message=result.message,
        )  # fmt: skip
        if result.reason is None:
            self.metrics.outcome("verify", "valid")
            return wire.verify_valid(result.payer)
        self.metrics.outcome("verify", result.reason)
        self.reject("verify", result.reason, result.message, request, payer, result.seconds)
        return wire.verify_invalid(result.reason, result.message, payer)

    def settle(
        self, request: Request, result: SettleResult, correlation: str | None = None
    ) -> dict:
        self.metrics.settle_seconds.observe(result.seconds)
        self.metrics.outcome("settle", result.reason or "success")
        req = request.payment_requirements
        payer = result.payer or payer_hint(request)
        success = result.outcome == SUCCESS
        self._publish(
            "settle", request, correlation, result.seconds, payer,
            ok=success, reason=result.reason, message=result.message,
            transaction=result.transaction,
        )  # fmt: skip
        if success:
            body = wire.settle_success(result.transaction, req.network, payer, result.amount)
        else:
            body = wire.settle_failure(
                result.reason, result.message, req.network, result.transaction, payer
            )
        amount = result.amount
        self.settlements.append(
            {
                "time": time.time(),
                "success": success,
                "reason": result.reason,
                "message": result.message,
                "payer": payer,
                "payTo": req.pay_to,
                "amount": str(amount) if amount is not None else req.amount,
                "network": req.network,
                "x402Version": request.x402_version,
                "transaction": result.transaction,
                "latencyMs": round(result.seconds * 1000, 3),
            }
        )
        # A pending answer is no rejection, whether the chain was slow or a fault says so.
        if not success and result.reason != reasons.SETTLEMENT_PENDING:
            self.reject("settle", result.reason, result.message, request, payer, result.seconds)
        return body

    def _publish(self, kind, request, correlation, seconds, payer, **fields) -> None:
        req = request.payment_requirements
        self.feed.publish(
            kind, correlation=correlation, payer=payer, payTo=req.pay_to, amount=req.amount,
            network=req.network, x402Version=request.x402_version,
            ms=round(seconds * 1000, 3), **fields,
        )  # fmt: skip

    def reject(
        self,
        operation: str,
        reason: str,
        message: str,
        request: Request | None = None,
        payer: str | None = None,
        seconds: float = 0.0,
    ) -> None:
        """One rejection record (a body that did not parse has no request)."""
        req = request.payment_requirements if request is not None else None
        if request is None:  # answered before verify or settle ran: the feed hears it here
            self.feed.publish(operation, ok=False, reason=reason, message=message)
        self.rejections.append(
            {
                "time": time.time(),
                "operation": operation,
                "reason": reason,
                "message": message,
                "payer": payer,
                "amount": req.amount if req is not None else None,
                "payTo": req.pay_to if req is not None else None,
                "x402Version": request.x402_version if request is not None else None,
                "latencyMs": round(seconds * 1000, 3),
            }
        )
