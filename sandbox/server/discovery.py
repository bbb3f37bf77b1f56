"""The server's discovery document, `GET /.well-known/x402` (and `/.well-known/x402.json`): every
priced route, so agents and validators find what is for sale before paying.

The shape is the x402 draft "Discovery: /.well-known/x402.json" (specs/extensions/
well-known-discovery.md): `{x402Version, lastUpdated, items[]}`, each item with `resource`,
`type`, `accepts` (advisory: the live 402 is authoritative), `input` (method and route template)
and `output` (media type). A top-level `routes[]` of `{endpoint, method, x402_version}` is there
too, because existing validators read it, and a top-level `network` (the CAIP-2 id every offer
here is on), which x402-conformance-suite reads when the origin itself answers no 402.

A route declaring the bazaar extension (protocol/bazaar.py) has its contract lifted into the
item as the draft says, without the extension's meta-schema envelope: `resource.serviceName` and
`resource.tags`, `output.example`.

`GET /discovery/resources` on this server answers the same routes in the shape of a
facilitator's catalogue (protocol/discovery_query.py, with its filters and pages): clients and
validators that look for the Discovery API on the origin (x402lint) find the server's own
routes there; a facilitator's catalogue lists what it has seen paid across servers.

Items are made from the same pricing table and offers as the live 402s, so they cannot drift;
`accepts` carries no `extra.memo` (a memo binds one 402 to one request). A route with a price
that depends on the request (/api/inference?tokens=N) lists no amount it cannot know: its
`accepts` is empty and `input.queryParams` says what sets the price.
"""

from __future__ import annotations

from typing import Any

from sandbox.protocol import bazaar
from sandbox.protocol.discovery_query import (
    DiscoveryQueryError,
    page,
    parse_query,
    query_error_body,
)
from sandbox.server.offer import Offers
from sandbox.server.pricing import PricedRoute, RoutePricing

__all__ = ["discovery_document", "resource_listing"]

X402_VERSION = 2


def _accepts(offers: Offers, route: PricedRoute, url: str) -> list[dict[str, Any]]:
    if route.dynamic:
        return []
    offer = offers.offer(route, route.methods[0], route.path, url, route.amount())
    return [offers.requirements_v2(offer, None, asset) for asset in offer.assets]


def discovery_document(
    offers: Offers, pricing: RoutePricing, origin: str, last_updated: int
) -> dict[str, Any]:
    """The document for requests reaching this server at `origin` (scheme://host[:port])."""
    items = []
    routes = []
    listed = pricing.routes
    if "hide-route-from-discovery" in offers.bugs:
        listed = listed[:-1]  # the deliberate bug (server/bugs.py)
    for route in listed:
        url = origin + route.path
        method = route.methods[0]
        item: dict[str, Any] = {
            "resource": {"url": url, "description": route.description,
                         "mimeType": route.mime_type, **route.resource_metadata},
            "type": "http",
            "accepts": _accepts(offers, route, url),
            "input": {"type": "http", "method": method, "routeTemplate": route.path},
            "output": {"mimeType": route.mime_type},
        }  # fmt: skip
        if route.dynamic and route.query_params:
            item["input"]["queryParams"] = route.query_params
        if route.bazaar and route.output_example is not None:
            item["output"]["example"] = route.output_example
        items.append(item)
        routes.append({"endpoint": route.path, "method": method, "x402_version": X402_VERSION})
    return {
        "x402Version": X402_VERSION,
        "lastUpdated": last_updated,
        "network": offers.network,
        "items": items,
        "routes": routes,
    }


def resource_listing(
    offers: Offers, pricing: RoutePricing, origin: str, last_updated: int, query_string: bytes
) -> tuple[int, dict[str, Any]]:
    """(status, body) of `GET /discovery/resources` here: this server's routes as catalogue
    items; 400 naming the parameter when the query is bad."""
    try:
        query = parse_query(query_string)
    except DiscoveryQueryError as exc:
        return 400, query_error_body(exc)
    items = []
    for route in pricing.routes:
        url = origin + route.path
        declared = route.extensions or {}
        item: dict[str, Any] = {
            "resource": url,
            "type": "http",
            "x402Version": X402_VERSION,
            "accepts": _accepts(offers, route, url),
            "lastUpdated": last_updated,
            "metadata": {"description": route.description, "mimeType": route.mime_type,
                         **route.resource_metadata},
            "extensions": sorted(declared),
        }  # fmt: skip
        if bazaar.EXTENSION in declared:
            item["discoveryInfo"] = declared[bazaar.EXTENSION]["info"]
        items.append(item)
    return 200, page(items, query)
