"""The bazaar extension on the sample server, in process: every priced route's 402 declares it
(input and output, schema the facilitator validates it with, serviceName and tags on `resource`),
the discovery document lifts it into its items, and GET /discovery/resources lists the server's
own routes in a facilitator catalogue's shape, with the same filters and 400s. A facilitator's
EXTENSION-RESPONSES header is read (a rejection logged) and never reaches the buyer."""

from __future__ import annotations

import logging

import httpx
import pytest
from server_fake_facilitator import FakeFacilitator
from server_payments import pay_v2
from server_sample_app import ORIGIN, PAY_TO, sample_client

from sandbox.protocol import decode_payment_required
from sandbox.protocol.bazaar import encode_extension_responses, validated_info
from sandbox.server.app import SERVICE_NAME, create_app, sample_pricing
from sandbox.server.pricing import PricedRoute
from sandbox.server.settings import ServerSettings

PATHS = [route.path for route in sample_pricing().routes]


@pytest.fixture
async def client(facilitator):
    async with sample_client(facilitator) as http:
        yield http


async def test_every_priced_route_declares_bazaar_in_its_402(client):
    for path in PATHS:
        query = "?tokens=5" if path == "/api/inference" else ""
        answer = await client.get(path + query)
        assert answer.status_code == 402, path
        required = decode_payment_required(answer.headers["PAYMENT-REQUIRED"])
        declared = required.extensions["bazaar"]
        info, why = validated_info(declared)  # what a facilitator checks before cataloguing
        assert why is None and info["input"] == {"type": "http", "method": "GET"} | (
            {"queryParams": {"tokens": 100}} if path == "/api/inference" else {}
        )
        assert info["output"]["type"] == "json" and isinstance(info["output"]["example"], dict)
        resource = required.resource.to_wire()
        assert resource["serviceName"] == SERVICE_NAME and resource["tags"], path
        if path != "/api/order":  # the payment identifier stays declared beside it
            assert required.extensions["payment-identifier"]["info"] == {"required": False}


async def test_the_discovery_document_lifts_the_declaration(client):
    document = (await client.get("/.well-known/x402")).json()
    assert document["network"].startswith("solana:")
    for item, route in zip(document["items"], sample_pricing().routes, strict=True):
        assert item["resource"]["serviceName"] == SERVICE_NAME
        assert item["resource"]["tags"] == list(route.tags)
        assert item["output"]["example"] == route.output_example
        assert "extensions" not in item  # the draft drops the meta-schema envelope


async def test_the_server_lists_its_own_routes_as_a_catalogue(client):
    listing = (await client.get("/discovery/resources")).json()
    assert listing["x402Version"] == 2
    assert listing["pagination"] == {"limit": 20, "offset": 0, "total": len(PATHS)}
    assert [item["resource"] for item in listing["items"]] == [ORIGIN + p for p in PATHS]
    weather = next(i for i in listing["items"] if i["resource"].endswith("/api/weather"))
    live = decode_payment_required((await client.get("/api/weather")).headers["PAYMENT-REQUIRED"])
    assert weather["accepts"][0]["amount"] == live.accepts[0].amount
    assert weather["discoveryInfo"] == live.extensions["bazaar"]["info"]
    assert weather["extensions"] == ["bazaar", "payment-identifier"]
    page = (await client.get("/discovery/resources?limit=2&offset=4")).json()
    assert [i["resource"] for i in page["items"]] == [ORIGIN + p for p in PATHS[4:6]]
    assert (await client.get(f"/discovery/resources?payTo={PAY_TO}&network=x")).json()[
        "items"
    ] == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("limit=many", "limit"), ("limit=500", "limit"), ("offset=-3", "offset")],
)
async def test_a_bad_listing_query_is_a_400_naming_it(client, query, parameter):
    answer = await client.get(f"/discovery/resources?{query}")
    assert answer.status_code == 400
    assert answer.json()["parameter"] == parameter


def test_a_route_without_the_extension_declares_nothing_of_it():
    route = PricedRoute("/x", "$0.01")
    assert route.extensions is None and route.resource_metadata == {}
    tagged = PricedRoute("/y", "$0.01", bazaar=True, service_name="S" * 40, tags=("a", "A", "b"))
    assert tagged.resource_metadata == {"tags": ["a", "b"]}  # the spec's soft-drop rules
    assert set(tagged.extensions) == {"bazaar"}


class AnnouncingFacilitator(FakeFacilitator):
    """The fake facilitator, answering EXTENSION-RESPONSES on /verify and /settle as a
    cataloguing one does (here: the declaration rejected)."""

    RESULT = {"bazaar": {"status": "rejected", "rejectedReason": "info failed schema validation"}}

    async def _verify(self, request):
        response = await super()._verify(request)
        response.headers["EXTENSION-RESPONSES"] = encode_extension_responses(self.RESULT)
        return response

    async def _settle(self, request):
        response = await super()._settle(request)
        response.headers["EXTENSION-RESPONSES"] = encode_extension_responses(self.RESULT)
        return response


async def test_extension_responses_stay_with_the_server_which_logs_a_rejection(caplog, payer):
    fake = await AnnouncingFacilitator().start()
    app = create_app(ServerSettings(pay_to=PAY_TO, facilitator_url=fake.url))
    paywall = app.state.paywall
    await paywall.start()
    try:
        assert await paywall.wait_ready(10)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as http:
            challenge = await http.get("/api/weather")
            with caplog.at_level(logging.WARNING, logger="sandbox.server"):
                paid = await http.get("/api/weather", headers=pay_v2(challenge, payer))
    finally:
        await paywall.close()
        await fake.stop()
    assert paid.status_code == 200, paid.text
    assert fake.calls["verify"] == fake.calls["settle"] == 1
    assert "extension-responses" not in paid.headers
    rejected = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) == 2 and "extension bazaar rejected: info failed" in rejected[0]
