"""The server's discovery document, `GET /.well-known/x402` (and `/.well-known/x402.json`): every
priced route, so agents and validators find what is for sale before paying.

The shape is the x402 draft "Discovery: /.well-known/x402.json" (specs/extensions/
well-known-discovery.md): `{x402Version, lastUpdated, items[]}`, each item with `resource`,
`type`, `accepts` (advisory: the live 402 is authoritative), `input` (method and route template)
and `output` (media type). A top-level `routes[]` of `{endpoint, method, x402_version}` is there
too, because existing validators read it.

Items are made from the same pricing table and offers as the live 402s, so they cannot drift;
`accepts` carries no `extra.memo` (a memo binds one 402 to one request). A route with a price
that depends on the request (/api/inference?tokens=N) lists no amount it cannot know: its
`accepts` is empty and `input.queryParams` says what sets the price.
"""

from __future__ import annotations

from typing import Any

from sandbox.server.offer import Offer, Offers
from sandbox.server.pricing import PricedRoute, RoutePricing

__all__ = ["discovery_document"]

X402_VERSION = 2


def _accepts(offers: Offers, route: PricedRoute, url: str) -> list[dict[str, Any]]:
    if route.dynamic:
        return []
    offer = Offer(route=route, method=route.methods[0], path=route.path, url=url,
                  amount=route.amount(), pay_to=route.pay_to or offers.pay_to)  # fmt: skip
    return [offers.requirements_v2(offer, memo=None)]


def discovery_document(
    offers: Offers, pricing: RoutePricing, origin: str, last_updated: int
) -> dict[str, Any]:
    """The document for requests reaching this server at `origin` (scheme://host[:port])."""
    items = []
    routes = []
    for route in pricing.routes:
        url = origin + route.path
        method = route.methods[0]
        item: dict[str, Any] = {
            "resource": {"url": url, "description": route.description,
                         "mimeType": route.mime_type},
            "type": "http",
            "accepts": _accepts(offers, route, url),
            "input": {"type": "http", "method": method, "routeTemplate": route.path},
            "output": {"mimeType": route.mime_type},
        }  # fmt: skip
        if route.dynamic and route.query_params:
            item["input"]["queryParams"] = route.query_params
        items.append(item)
        routes.append({"endpoint": route.path, "method": method, "x402_version": X402_VERSION})
    return {
        "x402Version": X402_VERSION,
        "lastUpdated": last_updated,
        "items": items,
        "routes": routes,
    }
