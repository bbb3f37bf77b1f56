"""Faults as wrappers (the fault set itself is faults.py).

    FaultMiddleware   ASGI, in front of the app: draws the request's plan once, plays latency and
                      the transport faults (error500, html502, hang) itself, and hands the others
                      down in scope["sandbox.fault"]
    FaultInjector     around the facilitator: invalid and fake_success answer without it,
                      pending settles without waiting for the commitment

A body over the size cap meets its 413 before any fault, as it always did: the middleware reads
the body of /verify and /settle first (only while faults are set) and replays it to the app.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

import orjson
from solders.signature import Signature

from sandbox.facilitator._asgi import declared_too_large, respond
from sandbox.facilitator.faults import Fault, Faults
from sandbox.facilitator.metrics import FacilitatorMetrics
from sandbox.facilitator.results import SettleResult, VerifyResult
from sandbox.facilitator.service import Facilitator
from sandbox.facilitator.verification import Request

__all__ = ["FAULT", "FaultInjector", "FaultMiddleware"]

FAULT = "sandbox.fault"  # the scope key of a fault the facilitator plays

_ENDPOINTS = {
    ("POST", "/verify"): "verify",
    ("POST", "/settle"): "settle",
    ("GET", "/supported"): "supported",
    ("GET", "/health"): "health",
}
_HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>\n"
)


class FaultMiddleware:
    def __init__(self, app, faults: Faults, metrics: FacilitatorMetrics, max_body_bytes: int):
        self.app = app
        self.faults = faults
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send) -> None:
        if not self.faults.faults or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        endpoint = _ENDPOINTS.get((scope["method"], path))
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        if endpoint in ("verify", "settle"):
            messages, fits = await self._buffer(scope, receive)
            receive = _replay(messages, receive)
            if not fits:  # the app answers 413, unfaulted
                await self.app(scope, receive, send)
                return
        plan = self.faults.plan(endpoint)
        if plan is None:
            await self.app(scope, receive, send)
            return
        for fault in plan.delays:
            self.metrics.fault(endpoint, fault.kind)
        if plan.delay > 0:
            await asyncio.sleep(plan.delay)
        fault = plan.fault
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.metrics.fault(endpoint, fault.kind)
        status = await _transport(fault, receive, send)
        if status:
            self.metrics.request(path, status)
            return
        await self.app({**scope, FAULT: fault}, receive, send)

    async def _buffer(self, scope, receive) -> tuple[list[dict], bool]:
        """The body's messages, and whether it fits under the cap."""
        if declared_too_large(scope, self.max_body_bytes):
            return [], False
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] == "http.disconnect":
                return messages, True
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return messages, False
            if not message.get("more_body"):
                return messages, True


class FaultInjector:
    """The facilitator as the fault it is handed makes it."""

    def __init__(self, facilitator: Facilitator) -> None:
        self.facilitator = facilitator

    async def verify(self, request: Request, fault: Fault) -> VerifyResult:
        if fault.kind == "invalid":
            return VerifyResult(None, fault.reason, "injected fault")
        if fault.kind == "fake_success":
            return VerifyResult(None)
        return await self.facilitator.verify(request)

    async def settle(self, request: Request, fault: Fault) -> SettleResult:
        if fault.kind == "invalid":
            result = SettleResult.failed(fault.reason, "injected fault", None)
        elif fault.kind == "fake_success":
            amount = request.payment_requirements.atomic_amount
            result = SettleResult.settled(None, str(Signature.new_unique()), amount)
        else:
            return await self.facilitator.settle(request, wait=fault.kind != "pending")
        result.network = request.payment_requirements.network
        return result


async def _transport(fault: Fault, receive, send) -> int:
    """Answer a transport fault: its status, or 0 when it is not one."""
    if fault.kind == "error500":
        await respond(send, 500, orjson.dumps({"error": "injected fault: error500"}))
        return 500
    if fault.kind == "html502":
        await respond(send, 502, _HTML_502, [(b"content-type", b"text/html")])
        return 502
    if fault.kind == "hang":
        await _wait_for_disconnect(receive, fault.seconds)
        await respond(send, 504, orjson.dumps({"error": "injected fault: hang"}))
        return 504
    return 0


def _replay(messages: list[dict], receive):
    queued = deque(messages)

    async def replayed() -> dict:
        if queued:
            return queued.popleft()
        return await receive()

    return replayed


async def _wait_for_disconnect(receive, seconds: float) -> None:
    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(disconnected(), timeout=seconds)
