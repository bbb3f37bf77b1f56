"""The facilitator's HTTP surface: a plain ASGI app, lean on the hot paths.

    POST /verify, /settle                 x402 (v1 and v2 bodies)
    POST /accepts                         requirements completed with extra.feePayer (accepts.py;
                                          faremeter's middleware asks it before each 402)
    GET  /supported, /health, /metrics
    GET  /discovery/resources, /discovery/search          the bazaar catalogue (catalogue.py)
    GET  /_sandbox/settlements, /_sandbox/rejections      recent outcomes (?limit=N)
    GET|POST /_sandbox/faults                             fault injection
    GET  /_sandbox/events                                 every verify and settle, as SSE
                                                          (Last-Event-ID or ?since=N resumes)
Admin routes (/_sandbox/*) follow sandbox/admin_guard.py: JSON bodies only, no foreign Origin, and
the admin token (`Authorization: Bearer TOKEN` or `X-Admin-Token`) from beyond loopback.

Client mistakes are 4xx in the protocol's shape; 5xx only for real faults (the chain is down,
an injected fault, a bug), never with a traceback.

`create_app` builds the real chain provider (rpc_chain.py), the facilitator over it, this app and
the fault middleware in front of it (injection.py). Results are rendered by answers.py.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import orjson

from sandbox.admin_guard import AdminGuard, Refusal
from sandbox.events import CORRELATION_HEADER, FEED_OFF, last_event_id
from sandbox.facilitator._asgi import BodyTooLarge, read_body, respond
from sandbox.facilitator.accepts import AcceptsError, complete_accepts
from sandbox.facilitator.answers import Answers
from sandbox.facilitator.faults import Fault, FaultError, Faults
from sandbox.facilitator.idempotent import FacilitatorIds
from sandbox.facilitator.injection import FAULT, FaultInjector, FaultMiddleware
from sandbox.facilitator.metrics import CONTENT_TYPE_LATEST, FacilitatorMetrics
from sandbox.facilitator.provider import ChainError
from sandbox.facilitator.rpc_chain import RpcChain
from sandbox.facilitator.service import Facilitator, NotReady
from sandbox.facilitator.settings import Settings
from sandbox.facilitator.settle_status import status_fields
from sandbox.protocol import ProtocolError, parse_facilitator_request, reasons
from sandbox.protocol.exact_svm.wire import settle_failure, verify_invalid

__all__ = ["FacilitatorApp", "correlation_of", "create_app"]

log = logging.getLogger("sandbox.facilitator")


class FacilitatorApp:
    """The routes. Wrapped by FaultMiddleware (injection.py) in `create_app`."""

    def __init__(
        self,
        settings: Settings,
        facilitator: Facilitator,
        faults: Faults | None = None,
        answers: Answers | None = None,
    ) -> None:
        self.settings = settings
        self.facilitator = facilitator
        self.metrics = facilitator.metrics
        self.faults = faults if faults is not None else Faults(list(settings.faults))
        self.answers = answers or Answers(self.metrics, settings.history)
        self.answers.feed.enabled = settings.event_feed
        self.injector = FaultInjector(facilitator)
        self.ids = FacilitatorIds(facilitator, on_effect=self._id_effect)
        self._routes = {
            ("POST", "/verify"): self._verify,
            ("POST", "/settle"): self._settle,
            ("GET", "/supported"): self._supported,
            ("POST", "/accepts"): self._accepts,
            ("GET", "/discovery/resources"): self._discovery,
            ("GET", "/discovery/search"): self._discovery,
            ("GET", "/health"): self._health,
            ("GET", "/metrics"): self._metrics,
            ("GET", "/"): self._index,
            ("GET", "/_sandbox/settlements"): self._settlements,
            ("GET", "/_sandbox/rejections"): self._rejections,
            ("GET", "/_sandbox/faults"): self._faults_get,
            ("POST", "/_sandbox/faults"): self._faults_post,
            ("GET", "/_sandbox/events"): self._events,
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
                self.answers.feed.close()
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
            await respond(send, status, orjson.dumps(body))
            self.metrics.request("unknown", status)
            return
        if path.startswith("/_sandbox/"):
            refusal = self._admin_refusal(scope)
            if refusal is not None:
                await respond(send, refusal.status, orjson.dumps({"error": refusal.message}))
                self.metrics.request(path, refusal.status)
                return
        try:
            status = await handler(scope, receive, send)
        except Exception:  # a bug of ours: a 500 in the right shape, the traceback in the log
            log.exception("unhandled error on %s", path)
            status = 500
            body = {"error": "internal error; see the facilitator log"}
            if path == "/verify":
                body = verify_invalid(reasons.UNEXPECTED_VERIFY_ERROR, body["error"])
            elif path == "/settle":
                body = settle_failure(reasons.UNEXPECTED_SETTLE_ERROR, body["error"])
            await respond(send, status, orjson.dumps(body))
        self.metrics.request(path, status)

    def _id_effect(self, operation: str, effect: str, key: str) -> None:
        """A payment identifier answered for the payment (a kept answer, a 409, busy): counted
        as an outcome of its own and told on the feed (a settlement's own events do not say)."""
        self.metrics.outcome(operation, f"payment_id_{effect}")
        pay_to, payment_id = key.split(" ", 1)
        self.answers.feed.publish(
            "payment_id", operation=operation, effect=effect, payTo=pay_to, paymentId=payment_id
        )

    def _admin_refusal(self, scope) -> Refusal | None:
        headers = dict(scope.get("headers") or ())
        client = scope.get("client")
        has_body = scope["method"] not in ("GET", "HEAD")
        return self._guard.check(headers, client[0] if client else None, has_body=has_body)

    # ------------------------------------------------------------ x402

    async def _x402(self, operation: str, scope, receive, send) -> int:
        shape = verify_invalid if operation == "verify" else settle_failure
        try:
            raw = await read_body(scope, receive, self.settings.max_body_bytes)
        except BodyTooLarge:
            status = 413
            body = shape(
                reasons.INVALID_PAYLOAD,
                f"request body larger than {self.settings.max_body_bytes} bytes",
            )
            self.metrics.outcome(operation, reasons.INVALID_PAYLOAD)
            await respond(send, status, orjson.dumps(body))
            return status
        try:
            request = parse_facilitator_request(raw)
            identified = FacilitatorIds.key_of(request)  # a malformed id is a 400 as well
        except ProtocolError as exc:
            self.metrics.outcome(operation, exc.reason)
            self.answers.reject(operation, exc.reason, exc.message)
            await respond(send, 400, orjson.dumps(shape(exc.reason, exc.message)))
            return 400
        if identified is None:
            status, body = await self._answer(operation, request, scope)
        else:
            ids = self.ids
            run = ids.verify if operation == "verify" else ids.settle
            status, body = await run(*identified, lambda: self._answer(operation, request, scope))
            if operation == "settle":
                body.setdefault("network", request.payment_requirements.network)
        # A settled bazaar-declaring resource is catalogued (EXTENSION-RESPONSES). Not on a
        # valid /verify: that costs nothing, so anyone could fill the catalogue with listings.
        headers = None
        if status == 200 and operation == "settle" and body.get("success") is True:
            headers = await self.facilitator.catalogue.record(request)
        await respond(send, status, orjson.dumps(body), headers)
        return status

    async def _answer(self, operation: str, request, scope) -> tuple[int, dict]:
        """Verify or settle (faults played), rendered: (status, body)."""
        shape = verify_invalid if operation == "verify" else settle_failure
        fault: Fault | None = scope.get(FAULT)
        status = 200
        try:
            if operation == "verify":
                if fault is None:
                    result = await self.facilitator.verify(request)
                else:
                    result = await self.injector.verify(request, fault)
                body = self.answers.verify(request, result, correlation_of(scope))
            else:
                if fault is None:
                    result = await self.facilitator.settle(request)
                else:
                    result = await self.injector.settle(request, fault)
                body = self.answers.settle(request, result, correlation_of(scope))
                if self.settings.settle_status:
                    network = request.payment_requirements.network
                    body.update(await status_fields(self.facilitator.chain, result, network))
        except NotReady:
            status = 503
            body = shape(
                reasons.INVALID_NETWORK, "the facilitator is still connecting to the chain"
            )
        except ChainError as exc:
            reason = (
                reasons.UNEXPECTED_VERIFY_ERROR
                if operation == "verify"
                else reasons.UNEXPECTED_SETTLE_ERROR
            )
            self.metrics.outcome(operation, reason)
            status, body = 502, shape(reason, f"the chain is unavailable: {exc}")
        if operation == "settle" and "network" not in body:
            body["network"] = request.payment_requirements.network
        return status, body

    async def _verify(self, scope, receive, send) -> int:
        return await self._x402("verify", scope, receive, send)

    async def _settle(self, scope, receive, send) -> int:
        return await self._x402("settle", scope, receive, send)

    # ------------------------------------------------------------ the rest

    async def _supported(self, scope, receive, send) -> int:
        body = self.facilitator.supported_body
        if body is None:
            await respond(send, 503, orjson.dumps({"error": "still connecting to the chain"}))
            return 503
        await respond(send, 200, orjson.dumps(body))
        return 200

    async def _accepts(self, scope, receive, send) -> int:
        network, keys = self.facilitator.network, list(self.facilitator.keys)
        if network is None:
            await respond(send, 503, orjson.dumps({"error": "still connecting to the chain"}))
            return 503
        try:
            raw = await read_body(scope, receive, self.settings.max_body_bytes)
            body = complete_accepts(raw, network, str(keys[0]))
        except BodyTooLarge:
            error = f"request body larger than {self.settings.max_body_bytes} bytes"
            await respond(send, 413, orjson.dumps({"error": error}))
            return 413
        except AcceptsError as exc:
            await respond(send, 400, orjson.dumps({"error": str(exc)}))
            return 400
        await respond(send, 200, body)
        return 200

    async def _discovery(self, scope, receive, send) -> int:
        search = scope["path"].rstrip("/").endswith("/search")
        query = scope.get("query_string", b"")
        status, body = self.facilitator.catalogue.listing(query, search=search)
        await respond(send, status, orjson.dumps(body))
        return status

    async def _health(self, scope, receive, send) -> int:
        status, body = await self.facilitator.health()
        await respond(send, status, orjson.dumps(body))
        return status

    async def _metrics(self, scope, receive, send) -> int:
        headers = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
        await respond(send, 200, self.metrics.render(), headers)
        return 200

    async def _index(self, scope, receive, send) -> int:
        routes = sorted(f"{method} {path}" for method, path in self._routes)
        body = {"service": "x402 sandbox facilitator", "network": self.facilitator.network}
        await respond(send, 200, orjson.dumps({**body, "routes": routes}))
        return 200

    async def _events(self, scope, receive, send) -> int:
        """Server-Sent Events of every verify and settle (sandbox/events.py)."""
        if not self.answers.feed.enabled:
            await respond(send, 404, orjson.dumps({"error": FEED_OFF}))
            return 404
        headers = dict(scope.get("headers") or ())
        since = last_event_id(headers, scope.get("query_string", b""))
        await self.answers.feed.serve(send, since, receive)
        return 200

    async def _settlements(self, scope, receive, send) -> int:
        items = _recent(self.answers.settlements, scope)
        await respond(send, 200, orjson.dumps({"settlements": items}))
        return 200

    async def _rejections(self, scope, receive, send) -> int:
        items = _recent(self.answers.rejections, scope)
        await respond(send, 200, orjson.dumps({"rejections": items}))
        return 200

    async def _faults_get(self, scope, receive, send) -> int:
        await respond(send, 200, orjson.dumps(self.faults.to_wire()))
        return 200

    async def _faults_post(self, scope, receive, send) -> int:
        try:
            raw = await read_body(scope, receive, self.settings.max_body_bytes)
            data = orjson.loads(raw)
            if isinstance(data, dict) and "faults" in data:
                data = data["faults"]
            if not isinstance(data, list):
                raise FaultError('expected {"faults": [...]} or a JSON list of faults')
            faults = [Fault.from_wire(item) for item in data]
        except BodyTooLarge:
            await respond(send, 413, orjson.dumps({"error": "body too large"}))
            return 413
        except orjson.JSONDecodeError:
            await respond(send, 400, orjson.dumps({"error": "body is not JSON"}))
            return 400
        except FaultError as exc:
            await respond(send, 400, orjson.dumps({"error": str(exc)}))
            return 400
        except TypeError as exc:
            await respond(send, 400, orjson.dumps({"error": f"bad fault: {exc}"}))
            return 400
        self.faults.replace(faults)
        log.warning("faults set: %s", [f.to_wire() for f in faults])
        await respond(send, 200, orjson.dumps(self.faults.to_wire()))
        return 200


def correlation_of(scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == CORRELATION_HEADER:
            text = value[:128].decode("ascii", "replace")
            return text if text.isprintable() else None
    return None


def create_app(settings: Settings) -> FaultMiddleware:
    """The facilitator over the real chain (JSON-RPC and PubSub), faults in front."""
    metrics = FacilitatorMetrics()
    facilitator = Facilitator(settings, RpcChain.from_settings(settings, metrics), metrics=metrics)
    faults = Faults(list(settings.faults))
    app = FacilitatorApp(settings, facilitator, faults)
    return FaultMiddleware(app, faults, metrics, settings.max_body_bytes)


# ---------------------------------------------------------------- helpers


def _recent(items, scope) -> list:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    try:
        limit = max(0, min(int(query.get("limit", ["100"])[0]), len(items)))
    except ValueError:
        limit = 100
    items = list(items)
    return items[len(items) - limit :] if limit else []
