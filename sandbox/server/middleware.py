"""The x402 paywall as a plain ASGI middleware.

    pricing = RoutePricing([PricedRoute("/api/weather", price="$0.001")])
    paywall = Paywall(facilitator_url="http://127.0.0.1:4022", pay_to=WALLET)
    app.add_middleware(PaymentMiddleware, paywall=paywall, pricing=pricing)

(or `Paywall(facilitator=my_client, pay_to=WALLET)` with any FacilitatorApi.) Requests to
routes not in `pricing` pass through untouched. The paywall starts learning the
facilitator's fee payer on the first priced request (or call `await paywall.start()` in the
app's lifespan, and `await paywall.close()` at shutdown).
"""

from __future__ import annotations

from sandbox.server.paywall import Paywall
from sandbox.server.pricing import RoutePricing

__all__ = ["PaymentMiddleware"]


class PaymentMiddleware:
    def __init__(self, app, *, paywall: Paywall, pricing: RoutePricing) -> None:
        self.app = app
        self.paywall = paywall
        self.pricing = pricing

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            route = self.pricing.match(scope["method"], scope["path"])
            if route is not None:
                await self.paywall.handle(self.app, scope, receive, send, route)
                return
        await self.app(scope, receive, send)
