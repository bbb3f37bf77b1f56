"""The server a case puts the client in front of: the sandbox's own Paywall on one priced route,
on its own loopback port in the harness's event loop, behind a log of every request.

    RequestLog        outermost ASGI layer: every request's headers and its answer, decoded
    (offer_rewrites.py: a mainnet disguise, a stale blockhash hint)
    V1Only            a server of x402 v1 only
    AnswerAfterPay    a paid request answered 502 after it was settled
    TwoOffers         one URL, two offers (two prices), each payable
    CaseServer        start / stop; the route's URL
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.check_client.cases import Case
from sandbox.check_client.evidence import RequestSeen, decode_request, record_response
from sandbox.check_client.offer_rewrites import PAYMENT_HEADERS, network_disguise, stale_hint
from sandbox.protocol import ProtocolError, decode_json_header, encode_json_header
from sandbox.server import PaymentMiddleware, Paywall, PricedRoute, RoutePricing

__all__ = [
    "AnswerAfterPay",
    "CaseServer",
    "RequestLog",
    "TwoOffers",
    "V1Only",
]

PATH = "/check/{case}"
_V2_HEADERS = (b"payment-required", b"payment-response")


class RequestLog:
    """Records each request as the client sent it and the answer as the client got it."""

    def __init__(self, app, log: list[RequestSeen]) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = decode_request(scope["method"], scope["path"], list(scope["headers"]))
        self.log.append(seen)

        async def logged_send(message) -> None:
            if message["type"] == "http.response.start":
                record_response(seen, message["status"], list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, logged_send)


class V1Only:
    """A server of x402 v1 only: no PAYMENT-REQUIRED / PAYMENT-RESPONSE headers, and a v2
    payment (PAYMENT-SIGNATURE) is not read, so it is answered with the v1 challenge again."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(n, v) for n, v in scope["headers"] if n != b"payment-signature"]

        async def v1_send(message) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", []) if n not in _V2_HEADERS]
                message = {**message, "headers": kept}
            await send(message)

        await self.app({**scope, "headers": headers}, receive, v1_send)


class AnswerAfterPay:
    """A paid request (every one, or the first only) gets `status` (an HTML error page, as a
    broken proxy sends) once the paywall behind has answered it: the content is lost."""

    def __init__(self, app, status: int, once: bool = False) -> None:
        self.app = app
        self.status = status
        self.left = 1 if once else None  # how many paid requests still get `status`

    async def __call__(self, scope, receive, send) -> None:
        paid = any(name in PAYMENT_HEADERS for name, _ in scope.get("headers", []))
        if scope["type"] != "http" or not paid or self.left == 0:
            await self.app(scope, receive, send)
            return
        if self.left is not None:
            self.left -= 1

        async def swallow(message) -> None:
            return None

        await self.app(scope, receive, swallow)
        body = f"<html><body><h1>{self.status} Bad Gateway</h1></body></html>".encode()
        headers = [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _Captured:
    """A whole answer of the app, held instead of sent."""

    def __init__(self) -> None:
        self.start: dict[str, Any] = {}
        self.body = bytearray()

    async def send(self, message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        else:
            self.body.extend(message.get("body", b""))

    async def replay(self, send, headers=None, body: bytes | None = None) -> None:
        content = bytes(self.body) if body is None else body
        kept = [
            (n, v) for n, v in (headers or self.start.get("headers", [])) if n != b"content-length"
        ]
        kept.append((b"content-length", str(len(content)).encode()))
        await send({**self.start, "headers": kept})
        await send({"type": "http.response.body", "body": content})


async def _no_body():
    return {"type": "http.request", "body": b"", "more_body": False}


class TwoOffers:
    """One URL, two offers: the 402 lists the route's offer and then another route's (a second
    price); a payment goes to the route whose price its transfer pays."""

    def __init__(self, app, path: str, alt_path: str, alt_price: int) -> None:
        self.app = app
        self.path = path
        self.alt_path = alt_path
        self.alt_price = alt_price

    def _to_alt(self, value: bytes) -> bytes:
        try:
            payload = decode_json_header(value)
            resource = payload.get("resource")
            if isinstance(resource, dict) and isinstance(resource.get("url"), str):
                resource["url"] = resource["url"].replace(self.path, self.alt_path, 1)
            return encode_json_header(payload).encode()
        except ProtocolError:
            return value

    async def _ask(self, scope, path: str) -> _Captured:
        captured = _Captured()
        await self.app({**scope, "path": path, "raw_path": path.encode()}, _no_body, captured.send)
        return captured

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        seen = decode_request(scope["method"], scope["path"], list(scope["headers"]))
        if seen.paid:
            transfers = seen.transaction.transfers if seen.transaction else []
            pays_alt = bool(transfers) and transfers[0]["amount"] == self.alt_price
            if not pays_alt:
                await self.app(scope, receive, send)
                return
            # Offer 2 is served by the alt route: the v2 payload's resource (this URL) with it.
            headers = [
                (n, self._to_alt(v) if n == b"payment-signature" else v)
                for n, v in scope["headers"]
            ]
            alt = self.alt_path
            await self.app(
                {**scope, "path": alt, "raw_path": alt.encode(), "headers": headers}, receive, send
            )
            return
        first = await self._ask(scope, self.path)
        if first.start.get("status") != 402:
            await first.replay(send)
            return
        second = await self._ask(scope, self.alt_path)
        # The client sees one URL: the alt route's v1 offers name this one as their resource.
        alt_body = bytes(second.body).replace(self.alt_path.encode(), self.path.encode())
        merged = _merge_json(bytes(first.body), alt_body)
        alt_headers = dict(second.start.get("headers", []))
        headers = [
            (n, _merge_header(v, alt_headers.get(n)) if n == b"payment-required" else v)
            for n, v in first.start.get("headers", [])
        ]
        await first.replay(send, headers, merged)


def _merge_json(first: bytes, second: bytes) -> bytes:
    try:
        a, b = orjson.loads(first), orjson.loads(second)
        a["accepts"] = [*a["accepts"], *b["accepts"]]
        return orjson.dumps(a)
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return first


def _merge_header(first: bytes, second: bytes | None) -> bytes:
    if second is None:
        return first
    try:
        a, b = decode_json_header(first), decode_json_header(second)
        a["accepts"] = [*a["accepts"], *b["accepts"]]
        return encode_json_header(a).encode()
    except (ProtocolError, KeyError, TypeError):
        return first


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        # The harness owns Ctrl-C: uvicorn must not take the process's signal handlers.
        yield


class CaseServer:
    """One case's paid route, served until stop()."""

    def __init__(
        self,
        case: Case,
        *,
        facilitator_url: str,
        rpc_url: str,
        network: str,
        asset: str,
        pay_to: str,
        hint: tuple[str, int] | None = None,
        route_binding: str = "memo",
    ) -> None:
        """hint: (blockhash, lastValidBlockHeight) put in every offer (the stale-hint case);
        route_binding: the paywall's (none: offers without extra.memo, but in the memo case)."""
        self.log: list[RequestSeen] = []
        self.path = PATH.format(case=case.name)
        self.paywall = Paywall(
            pay_to=pay_to,
            facilitator_url=facilitator_url,
            network=network,
            asset=asset,
            rpc_url=rpc_url,
            memo_secret=os.urandom(32),
            route_binding="memo" if case.memo_always else route_binding,
        )
        route = PricedRoute(
            self.path,
            price=case.price,
            description=f"check-client case {case.name}",
            mode=case.mode,
            payment_identifier=case.payment_identifier,
        )

        routes = [route]
        if case.alt_price:
            alt_path = f"{self.path}/alt"
            routes.append(
                PricedRoute(alt_path, price=case.alt_price, description=f"{case.name}, offer 2")
            )

        async def content(request: Request) -> JSONResponse:
            if case.delay:
                await asyncio.sleep(case.delay)  # the case's slow server, not a wait of ours
            return JSONResponse({"case": case.name, "paid": True, "route": request.url.path})

        app: Any = PaymentMiddleware(
            Starlette(routes=[Route(r.path, content) for r in routes]),
            paywall=self.paywall,
            pricing=RoutePricing(routes),
        )
        if case.alt_price:
            app = TwoOffers(app, self.path, alt_path, case.alt_price)
        if case.disguise:
            app = network_disguise(app)
        if hint is not None:
            app = stale_hint(app, *hint)
        if case.paid_status:
            app = AnswerAfterPay(app, case.paid_status, case.paid_status_once)
        if case.v1_only:
            app = V1Only(app)
        self.app = RequestLog(app, self.log)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))  # bound here: no race for a "free" port
        self.port = self._socket.getsockname()[1]
        # A request still running when the client is gone (a slow case's content) is cut short
        # on stop; whatever it had the facilitator send is judged on the chain all the same.
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=3
        )
        self._server = _Server(config)
        self._task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def start(self, timeout: float = 20.0) -> None:
        """Serve, and wait until the paywall knows the facilitator's fee payer."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._server.started:
            if self._task.done() or loop.time() > deadline:
                raise RuntimeError(f"the case server on port {self.port} did not start")
            await asyncio.sleep(0.01)
        if not await self.paywall.wait_ready(timeout):
            raise RuntimeError(f"the case server's paywall: {self.paywall.not_ready_reason}")

    @property
    def fee_payer(self) -> str:
        return self.paywall.fee_payer or ""

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self.paywall.close()
        self._socket.close()
