"""The facilitator's HTTP surface: a plain ASGI app, lean on the hot paths.

    POST /verify, /settle                 x402 (v1 and v2 bodies)
    GET  /supported, /health, /metrics
    GET  /_sandbox/settlements, /_sandbox/rejections      recent outcomes (?limit=N)
    GET|POST /_sandbox/faults                             fault injection
Admin routes (/_sandbox/*) follow sandbox/admin_guard.py: JSON bodies only, no foreign Origin, and
the admin token (`Authorization: Bearer TOKEN` or `X-Admin-Token`) from beyond loopback.

Client mistakes are 4xx in the protocol's shape; 5xx only for real faults (the chain is down,
an injected fault, a bug), never with a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from urllib.parse import parse_qs

import orjson

from sandbox.admin_guard import AdminGuard, Refusal
from sandbox.facilitator.faults import Fault, FaultError, FaultPlan
from sandbox.facilitator.metrics import CONTENT_TYPE_LATEST
from sandbox.facilitator.rpc import ChainError
from sandbox.facilitator.service import Facilitator, NotReady, Outcome
from sandbox.facilitator.settings import Settings
from sandbox.protocol import ProtocolError, parse_facilitator_request, reasons

__all__ = ["FacilitatorApp", "create_app"]

log = logging.getLogger("sandbox.facilitator")

_JSON = [(b"content-type", b"application/json")]
_HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>\n"
)


class BodyTooLarge(Exception):
    pass


class FacilitatorApp:
    def __init__(self, settings: Settings, facilitator: Facilitator | None = None) -> None:
        self.settings = settings
        self.facilitator = facilitator or Facilitator(settings)
        self.metrics = self.facilitator.metrics
        self._routes = {
            ("POST", "/verify"): self._verify,
            ("POST", "/settle"): self._settle,
            ("GET", "/supported"): self._supported,
            ("GET", "/health"): self._health,
            ("GET", "/metrics"): self._metrics,
            ("GET", "/"): self._index,
            ("GET", "/_sandbox/settlements"): self._settlements,
            ("GET", "/_sandbox/rejections"): self._rejections,
            ("GET", "/_sandbox/faults"): self._faults_get,
            ("POST", "/_sandbox/faults"): self._faults_post,
        }
        self._paths = {path for _method, path in self._routes}
        self._guard = AdminGuard(
            port=settings.port,
            host=settings.host,
            token=settings.admin_token,
            require_token=settings.require_admin_token,
            allowed_origins=settings.allowed_origins,
        )

    # ------------------------------------------------------------ ASGI

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.facilitator.start()
                except Exception as exc:
                    log.exception("facilitator failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.facilitator.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope, receive, send) -> None:
        path = scope["path"].rstrip("/") or "/"
        handler = self._routes.get((scope["method"], path))
        if handler is None:
            if path in self._paths:
                status, body = 405, {"error": f"method {scope['method']} not allowed on {path}"}
            else:
                status, body = 404, {"error": f"no route {path}"}
            await _send(send, status, orjson.dumps(body))
            self.metrics.request("unknown", status)
            return
        if path.startswith("/_sandbox/"):
            refusal = self._admin_refusal(scope)
            if refusal is not None:
                await _send(send, refusal.status, orjson.dumps({"error": refusal.message}))
                self.metrics.request(path, refusal.status)
                return
        try:
            status = await handler(scope, receive, send)
        except Exception:  # a bug of ours: a 500 in the right shape, the traceback in the log
            log.exception("unhandled error on %s", path)
            status = 500
            body = {"error": "internal error; see the facilitator log"}
            if path == "/verify":
                body = _invalid(reasons.UNEXPECTED_VERIFY_ERROR, body["error"])
            elif path == "/settle":
                body = _settle_failed(reasons.UNEXPECTED_SETTLE_ERROR, body["error"])
            await _send(send, status, orjson.dumps(body))
        self.metrics.request(path, status)

    def _admin_refusal(self, scope) -> Refusal | None:
        headers = dict(scope.get("headers") or ())
        client = scope.get("client")
        has_body = scope["method"] not in ("GET", "HEAD")
        return self._guard.check(headers, client[0] if client else None, has_body=has_body)

    # ------------------------------------------------------------ x402

    async def _apply_faults(self, endpoint: str, receive, send) -> tuple[int, Fault | None]:
        """Run latency and transport faults: (status if answered else 0, fault for the service)."""
        plan: FaultPlan | None = self.facilitator.faults.plan(endpoint)
        if plan is None:
            return 0, None
        for fault in plan.delays:
            self.metrics.fault(endpoint, fault.kind)
        if plan.delay > 0:
            await asyncio.sleep(plan.delay)
        fault = plan.fault
        if fault is None:
            return 0, None
        self.metrics.fault(endpoint, fault.kind)
        if fault.kind == "error500":
            await _send(send, 500, orjson.dumps({"error": "injected fault: error500"}))
            return 500, fault
        if fault.kind == "html502":
            await _send(send, 502, _HTML_502, [(b"content-type", b"text/html")])
            return 502, fault
        if fault.kind == "hang":
            await _wait_for_disconnect(receive, fault.seconds)
            await _send(send, 504, orjson.dumps({"error": "injected fault: hang"}))
            return 504, fault
        return 0, fault

    async def _read(self, scope, receive) -> bytes:
        limit = self.settings.max_body_bytes
        for name, value in scope.get("headers") or ():
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                raise BodyTooLarge
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    async def _x402(self, operation: str, scope, receive, send) -> int:
        shape = _invalid if operation == "verify" else _settle_failed
        try:
            raw = await self._read(scope, receive)
        except BodyTooLarge:
            status = 413
            body = shape(
                reasons.INVALID_PAYLOAD,
                f"request body larger than {self.settings.max_body_bytes} bytes",
            )
            self.metrics.outcome(operation, reasons.INVALID_PAYLOAD)
            await _send(send, status, orjson.dumps(body))
            return status
        answered, fault = await self._apply_faults(operation, receive, send)
        if answered:
            return answered
        try:
            request = parse_facilitator_request(raw)
        except ProtocolError as exc:
            self.metrics.outcome(operation, exc.reason)
            self.facilitator.rejections.append(
                {
                    "time": time.time(),
                    "operation": operation,
                    "reason": exc.reason,
                    "message": exc.message,
                    "payer": None,
                    "amount": None,
                    "latencyMs": 0.0,
                }
            )
            await _send(send, 400, orjson.dumps(shape(exc.reason, exc.message)))
            return 400
        try:
            if operation == "verify":
                outcome = await self._verify_request(request, fault)
            else:
                outcome = await self.facilitator.settler.settle(request, fault)
        except NotReady:
            outcome = Outcome(
                shape(reasons.INVALID_NETWORK, "the facilitator is still connecting to the chain"),
                503,
            )
        except ChainError as exc:
            reason = (
                reasons.UNEXPECTED_VERIFY_ERROR
                if operation == "verify"
                else reasons.UNEXPECTED_SETTLE_ERROR
            )
            self.metrics.outcome(operation, reason)
            outcome = Outcome(shape(reason, f"the chain is unavailable: {exc}"), 502)
        if operation == "settle" and "network" not in outcome.body:
            outcome.body["network"] = request.payment_requirements.network
        await _send(send, outcome.status, orjson.dumps(outcome.body))
        return outcome.status

    async def _verify_request(self, request, fault: Fault | None) -> Outcome:
        if fault is not None and fault.kind == "invalid":
            from sandbox.facilitator.exact_svm import Rejection

            return self.facilitator.verify_rejected(
                request, Rejection(fault.reason, "injected fault"), None
            )
        if fault is not None and fault.kind == "fake_success":
            return Outcome({"isValid": True})
        return await self.facilitator.verify(request)

    async def _verify(self, scope, receive, send) -> int:
        return await self._x402("verify", scope, receive, send)

    async def _settle(self, scope, receive, send) -> int:
        return await self._x402("settle", scope, receive, send)

    # ------------------------------------------------------------ the rest

    async def _supported(self, scope, receive, send) -> int:
        answered, _ = await self._apply_faults("supported", receive, send)
        if answered:
            return answered
        body = self.facilitator.supported_body
        if body is None:
            await _send(send, 503, orjson.dumps({"error": "still connecting to the chain"}))
            return 503
        await _send(send, 200, orjson.dumps(body))
        return 200

    async def _health(self, scope, receive, send) -> int:
        answered, _ = await self._apply_faults("health", receive, send)
        if answered:
            return answered
        status, body = await self.facilitator.health()
        await _send(send, status, orjson.dumps(body))
        return status

    async def _metrics(self, scope, receive, send) -> int:
        headers = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
        await _send(send, 200, self.metrics.render(), headers)
        return 200

    async def _index(self, scope, receive, send) -> int:
        routes = sorted(f"{method} {path}" for method, path in self._routes)
        body = {"service": "x402 sandbox facilitator", "network": self.facilitator.network}
        await _send(send, 200, orjson.dumps({**body, "routes": routes}))
        return 200

    async def _settlements(self, scope, receive, send) -> int:
        items = _recent(self.facilitator.settlements, scope)
        await _send(send, 200, orjson.dumps({"settlements": items}))
        return 200

    async def _rejections(self, scope, receive, send) -> int:
        items = _recent(self.facilitator.rejections, scope)
        await _send(send, 200, orjson.dumps({"rejections": items}))
        return 200

    async def _faults_get(self, scope, receive, send) -> int:
        await _send(send, 200, orjson.dumps(self.facilitator.faults.to_wire()))
        return 200

    async def _faults_post(self, scope, receive, send) -> int:
        try:
            raw = await self._read(scope, receive)
            data = orjson.loads(raw)
            if isinstance(data, dict) and "faults" in data:
                data = data["faults"]
            if not isinstance(data, list):
                raise FaultError('expected {"faults": [...]} or a JSON list of faults')
            faults = [Fault.from_wire(item) for item in data]
        except BodyTooLarge:
            await _send(send, 413, orjson.dumps({"error": "body too large"}))
            return 413
        except orjson.JSONDecodeError:
            await _send(send, 400, orjson.dumps({"error": "body is not JSON"}))
            return 400
        except FaultError as exc:
            await _send(send, 400, orjson.dumps({"error": str(exc)}))
            return 400
        except TypeError as exc:
            await _send(send, 400, orjson.dumps({"error": f"bad fault: {exc}"}))
            return 400
        self.facilitator.faults.replace(faults)
        log.warning("faults set: %s", [f.to_wire() for f in faults])
        await _send(send, 200, orjson.dumps(self.facilitator.faults.to_wire()))
        return 200


def create_app(settings: Settings) -> FacilitatorApp:
    return FacilitatorApp(settings)


# ---------------------------------------------------------------- helpers


def _invalid(reason: str, message: str) -> dict:
    return {"isValid": False, "invalidReason": reason, "invalidMessage": message}


def _settle_failed(reason: str, message: str) -> dict:
    return {"success": False, "errorReason": reason, "errorMessage": message, "transaction": ""}


def _recent(items, scope) -> list:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    try:
        limit = max(0, min(int(query.get("limit", ["100"])[0]), len(items)))
    except ValueError:
        limit = 100
    items = list(items)
    return items[len(items) - limit :] if limit else []


async def _send(send, status: int, body: bytes, headers=None) -> None:
    headers = list(headers or _JSON)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _wait_for_disconnect(receive, seconds: float) -> None:
    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(disconnected(), timeout=seconds)
