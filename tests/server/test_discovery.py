"""GET /.well-known/x402 (and .json): the sample server's catalogue, made from the same pricing
and offers as its live 402s."""

from __future__ import annotations

import pytest
from server_sample_app import ORIGIN, sample_client

from sandbox.protocol import PYUSD_DEVNET_MINT, USDC_DEVNET_MINT, decode_payment_required
from sandbox.server.app import sample_pricing


@pytest.fixture
async def client(facilitator):
    async with sample_client(facilitator) as http:
        yield http


async def test_the_catalogue_lists_every_priced_route_as_its_402_offers_it(client):
    document = (await client.get("/.well-known/x402")).json()
    assert document == (await client.get("/.well-known/x402.json")).json()
    assert document["x402Version"] == 2 and isinstance(document["lastUpdated"], int)
    paths = [route.path for route in sample_pricing().routes]
    assert [item["resource"]["url"] for item in document["items"]] == [ORIGIN + p for p in paths]
    assert document["routes"] == [
        {"endpoint": p, "method": "GET", "x402_version": 2} for p in paths
    ]
    items = {item["input"]["routeTemplate"]: item for item in document["items"]}
    for path, item in items.items():
        assert item["type"] == "http" and item["input"]["method"] == "GET"
        if path == "/api/inference":
            continue
        # The advisory offers are the live ones without the memo that binds one 402 (two on the
        # route priced in USDC or PYUSD).
        live = decode_payment_required((await client.get(path)).headers["PAYMENT-REQUIRED"])
        offered = [accept.to_wire() for accept in live.accepts]
        for offer in offered:
            offer["extra"].pop("memo")
        assert item["accepts"] == offered, path
        if path == "/api/premium-content-any":
            assert [offer["asset"] for offer in offered] == [USDC_DEVNET_MINT, PYUSD_DEVNET_MINT]
        assert item["resource"]["description"] == live.resource.description


async def test_a_request_priced_route_says_what_sets_its_price_not_an_amount(client):
    items = (await client.get("/.well-known/x402")).json()["items"]
    (inference,) = [i for i in items if i["input"]["routeTemplate"] == "/api/inference"]
    assert inference["accepts"] == []
    assert inference["input"]["queryParams"]["tokens"]["maximum"] == 100_000


async def test_the_catalogue_is_free_and_names_the_host_it_was_reached_at(client):
    answer = await client.get("/.well-known/x402", headers={"Host": "api.example:8080"})
    assert answer.status_code == 200
    assert answer.json()["items"][0]["resource"]["url"].startswith("http://api.example:8080/")
