"""The sample paid API: the reference for putting a price on a route.

/health                   free
/api/premium-content      $0.01   (the seed example)
/api/premium-content-pyusd  $0.01 in PYUSD (Token-2022)
/api/premium-content-any    $0.01 in USDC or in PYUSD: two offers, the payer picks one
/api/weather              $0.001
/api/inference?tokens=N   $0.00001 a token (1 to 100,000 tokens)
/api/upfront              $0.01, settled before the handler runs
/api/broken               $0.01, the handler fails with 500 (so the payment is never settled)
/api/order                $0.01, a payment identifier required (every other route: optional)
/api/member-content       $0.01; a wallet that paid once signs in to open it again (sign_in.py)
/.well-known/x402         the catalogue of priced routes (also .json; discovery.py)
/discovery/resources      the same routes in a facilitator catalogue's shape (?type=&limit=...)
/metrics                  Prometheus
/_sandbox/events          every step of every payment, as Server-Sent Events (events.py)
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sandbox.admin_guard import AdminGuard
from sandbox.events import FEED_OFF, FeedResponse, last_event_id
from sandbox.protocol import PYUSD_DEVNET_MINT, USDC_DEVNET_MINT
from sandbox.server.discovery import discovery_document, resource_listing
from sandbox.server.metrics import CONTENT_TYPE_LATEST
from sandbox.server.middleware import PaymentMiddleware
from sandbox.server.paywall import Paywall
from sandbox.server.pricing import PricedRoute, PriceError, RoutePricing
from sandbox.server.settings import ServerSettings

__all__ = ["MEMO_BINDING_OFF", "PRICE_PER_TOKEN", "create_app", "sample_pricing"]

MEMO_BINDING_OFF = (
    "memo binding is off (--route-binding none): offers carry no extra.memo, a v2 payment is "
    "bound by the requirements it echoes, a v1 payment only by amount, mint and payTo"
)

PRICE_PER_TOKEN = 10  # atomic units: $0.00001
MAX_TOKENS = 100_000


def inference_price(request: Request) -> int:
    raw = request.query_params.get("tokens")
    if raw is None:
        raise PriceError("query parameter 'tokens' is required (an integer from 1 to 100000)")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_TOKENS:
        raise PriceError(
            f"query parameter 'tokens' must be an integer from 1 to 100000, got {raw!r}"
        )
    return int(raw) * PRICE_PER_TOKEN


# Every sample route takes a payment identifier (a resend gets the first answer, server/
# idempotent.py); /api/order requires one.
_IDS = {"payment_identifier": "optional"}
# Every sample route declares the bazaar extension (protocol/bazaar.py): a facilitator that sees
# it paid catalogues the route for discovery, under this provider name and the route's tags.
SERVICE_NAME = "x402 Sandbox API"


def _bazaar(*tags: str, example: dict) -> dict:
    return {"bazaar": True, "service_name": SERVICE_NAME, "tags": tags, "output_example": example}


def sample_pricing(usdc_mint: str = USDC_DEVNET_MINT) -> RoutePricing:
    """The sample routes; `usdc_mint` is the USDC the two-stablecoin route offers first."""
    return RoutePricing(
        [
            PricedRoute(
                "/api/premium-content",
                "$0.01",
                "Premium content",
                **_IDS,
                **_bazaar("content", example={"content": "The premium answer", "kind": "premium"}),
            ),
            PricedRoute(
                "/api/premium-content-pyusd",
                "$0.01",
                "Premium content, paid in PYUSD (Token-2022)",
                assets=(PYUSD_DEVNET_MINT,),
                **_IDS,
                **_bazaar("content", example={"content": "Paid in PYUSD", "kind": "premium"}),
            ),
            PricedRoute(
                "/api/premium-content-any",
                "$0.01",
                "Premium content, paid in USDC or in PYUSD",
                assets=(usdc_mint, PYUSD_DEVNET_MINT),
                **_IDS,
                **_bazaar("content", example={"content": "Paid in either", "kind": "premium"}),
            ),
            PricedRoute(
                "/api/weather",
                "$0.001",
                "Current weather",
                **_IDS,
                **_bazaar("weather", example={"city": "Sandbox", "temperatureC": 21}),
            ),
            PricedRoute(
                "/api/inference",
                inference_price,
                "Text generation, priced per token",
                **_IDS,
                query_params={
                    "tokens": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_TOKENS,
                        "description": f"tokens to generate, {PRICE_PER_TOKEN} atomic units each",
                    }
                },
                query_example={"tokens": 100},
                **_bazaar("inference", "ai", example={"tokens": 2, "text": "5d2f1 9a0c3"}),
            ),
            PricedRoute(
                "/api/upfront",
                "$0.01",
                "A report paid before it is made",
                mode="upfront",
                **_IDS,
                **_bazaar("report", example={"report": "Settled before this handler ran."}),
            ),
            PricedRoute(
                "/api/broken",
                "$0.01",
                "A route whose handler always fails",
                **_IDS,
                **_bazaar("testing", example={"error": "handler_failed"}),
            ),
            PricedRoute(
                "/api/order",
                "$0.01",
                "An order placed once: pay with a payment identifier",
                payment_identifier="required",
                **_bazaar("order", example={"order": "placed", "kind": "order"}),
            ),
            PricedRoute(
                "/api/member-content",
                "$0.01",
                "Members' content: pay once, then sign in with your wallet (sign-in-with-x)",
                sign_in=True,
                sign_in_statement="Sign in to open the members' content you paid for",
                **_IDS,
                **_bazaar(
                    "content", "members", example={"content": "For members", "kind": "member"}
                ),
            ),
        ]
    )


def create_app(settings: ServerSettings, paywall: Paywall | None = None) -> FastAPI:
    paywall = paywall or Paywall(
        facilitator_url=settings.facilitator_url,
        pay_to=settings.pay_to,
        network=settings.network,
        asset=settings.usdc_mint,
        facilitator_timeout=settings.facilitator_timeout,
        memo_secret=settings.memo_secret,
        rpc_url=settings.rpc_url,
        payment_record=settings.payment_record,
        bugs=settings.bugs,
        route_binding=settings.route_binding,
        public_origin=settings.origin,
    )
    paywall.feed.enabled = settings.event_feed

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        await paywall.start()
        yield
        paywall.feed.close()  # open event streams end, so shutdown does not wait on them
        await paywall.close()

    app = FastAPI(title="x402 sandbox paid API", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.paywall = paywall
    pricing = sample_pricing(settings.usdc_mint)
    app.add_middleware(PaymentMiddleware, paywall=paywall, pricing=pricing)
    started = int(time.time())

    @app.get("/.well-known/x402")
    @app.get("/.well-known/x402.json")
    async def discovery(request: Request) -> dict:
        origin = str(request.base_url).rstrip("/")
        return discovery_document(paywall.offers, pricing, origin, started)

    @app.get("/discovery/resources")
    async def discovery_resources(request: Request) -> JSONResponse:
        origin = str(request.base_url).rstrip("/")
        query = request.scope["query_string"]
        status, body = resource_listing(paywall.offers, pricing, origin, started, query)
        return JSONResponse(body, status_code=status)

    @app.get("/health")
    async def health() -> dict:
        answer = {
            "status": "ok",
            "paywallReady": paywall.ready,
            "routeBinding": paywall.route_binding,
        }
        if paywall.route_binding == "none":
            answer["warnings"] = [MEMO_BINDING_OFF]
        if paywall.bugs:
            answer["bugs"] = sorted(paywall.bugs)
        return answer

    @app.get("/api/premium-content")
    async def premium_content() -> dict:
        return {
            "content": "The premium answer: 42. Paid for with x402 on a local Solana devnet.",
            "kind": "premium",
        }

    @app.get("/api/premium-content-pyusd")
    async def premium_content_pyusd() -> dict:
        return {"content": "The premium answer: 42, paid in PYUSD.", "kind": "premium"}

    @app.get("/api/premium-content-any")
    async def premium_content_any() -> dict:
        return {"content": "The premium answer: 42, paid in USDC or PYUSD.", "kind": "premium"}

    @app.get("/api/weather")
    async def weather() -> dict:
        now = datetime.datetime.now(datetime.UTC)
        return {"city": "Sandbox", "temperatureC": 21, "sky": "clear", "at": now.isoformat()}

    @app.get("/api/inference")
    async def inference(tokens: int) -> dict:
        words = [hashlib.sha256(f"{tokens}:{i}".encode()).hexdigest()[:5] for i in range(tokens)]
        return {"tokens": tokens, "text": " ".join(words[:1000]), "truncated": tokens > 1000}

    @app.get("/api/upfront")
    async def upfront() -> dict:
        return {"report": "Settled before this handler ran.", "kind": "upfront"}

    @app.get("/api/order")
    async def order() -> dict:
        # A new order number each time the handler runs: a resend answered from the kept
        # answer shows the first one (what the payment-id stories check).
        return {
            "order": "placed",
            "kind": "order",
            "orderId": uuid.uuid4().hex,
            "placedAt": int(time.time()),
        }

    @app.get("/api/member-content")
    async def member_content() -> dict:
        return {"content": "For members: paid once, opened by signing in.", "kind": "member"}

    @app.get("/api/broken")
    async def broken() -> JSONResponse:
        return JSONResponse(
            {"error": "handler_failed", "message": "this route fails on purpose; not charged"},
            status_code=500,
        )

    # The feed tells payers and amounts: the admin rule's Host and Origin checks keep a
    # DNS-rebinding or cross-site page from reading it (the server has no admin token).
    guard = AdminGuard(port=settings.port, host=settings.host)

    @app.get("/_sandbox/events")
    async def events(request: Request):
        refusal = guard.check(
            dict(request.scope.get("headers") or ()),
            request.client.host if request.client else None,
            has_body=False,
        )
        if refusal is not None:
            return JSONResponse({"error": refusal.message}, status_code=refusal.status)
        if not paywall.feed.enabled:
            return JSONResponse({"error": FEED_OFF}, status_code=404)
        since = last_event_id(dict(request.scope["headers"]), request.scope["query_string"])
        return FeedResponse(paywall.feed, since)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(paywall.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app
