"""The facilitator's bazaar catalogue, in process over a FakeChain: a paid payment that declares
the bazaar extension is catalogued and answered with EXTENSION-RESPONSES; an unpaid one adds
nothing; a declaration its own schema refuses is `rejected` (the payment still goes through);
GET /discovery/resources filters and pages, GET /discovery/search finds by text, bad values are a
400 naming the parameter; the catalogue outlives a restart and keeps at most its bound."""

from __future__ import annotations

import contextlib
import sqlite3

import httpx
import pytest
from facilitator_builders import Parties, valid_body
from fake_chain import FakeChain

from sandbox.facilitator.app import FacilitatorApp
from sandbox.facilitator.catalogue import Catalogue
from sandbox.facilitator.service import Facilitator
from sandbox.facilitator.settings import Settings
from sandbox.protocol.bazaar import declaration, decode_extension_responses

URL = "http://127.0.0.1:4021/api/weather"


@contextlib.asynccontextmanager
async def facilitator_at(ledger, p: Parties, chain: FakeChain, max_entries: int = 10_000):
    settings = Settings(rpc_url="http://fake.invalid:1", fee_payers=(p.fee_payer,),
                        ledger_path=ledger)  # fmt: skip
    facilitator = Facilitator(settings, chain)
    facilitator.catalogue = Catalogue(max_entries)
    await facilitator.start()
    await facilitator.wait_ready()
    transport = httpx.ASGITransport(app=FacilitatorApp(settings, facilitator))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4022") as c:
            yield c
    finally:
        await facilitator.stop()


def declaring(body: dict, url: str = URL, entry: dict | None = None, **resource) -> dict:
    """The body with the payload a bazaar-echoing client sends for `url`."""
    entry = entry or declaration("GET", output_example={"temperatureC": 21})
    payload = body["paymentPayload"] | {
        "resource": {"url": url + "?units=c", "description": "Current weather",
                     "mimeType": "application/json", **resource},
        "extensions": {"bazaar": entry},
    }  # fmt: skip
    return body | {"paymentPayload": payload}


def responses(answer: httpx.Response) -> dict | None:
    value = answer.headers.get("extension-responses")
    return None if value is None else decode_extension_responses(value)


@pytest.fixture
def p() -> Parties:
    return Parties()


async def test_a_paid_declaring_resource_is_catalogued_and_said_so(tmp_path, p) -> None:
    body = declaring(valid_body(p), serviceName="Weather Co", tags=["weather", "WEATHER", "x"])
    async with facilitator_at(tmp_path / "ledger.sqlite3", p, FakeChain()) as client:
        verify = await client.post("/verify", json=body)
        after_verify = (await client.get("/discovery/resources")).json()
        settle = await client.post("/settle", json=body)
        listing = (await client.get("/discovery/resources")).json()
        supported = (await client.get("/supported")).json()
    assert verify.json()["isValid"] is True and settle.json()["success"] is True
    # A valid /verify costs nothing: it catalogues nothing (else anyone could fill it).
    assert responses(verify) is None and after_verify["pagination"]["total"] == 0
    assert responses(settle) == {"bazaar": {"status": "success"}}
    assert "bazaar" in supported["extensions"]
    assert listing["x402Version"] == 2
    assert listing["pagination"] == {"limit": 20, "offset": 0, "total": 1}
    (item,) = listing["items"]
    assert item["resource"] == URL  # the query left out: one entry per route
    assert item["type"] == "http" and item["x402Version"] == 2
    assert isinstance(item["lastUpdated"], int)
    assert item["accepts"][0]["payTo"] == str(p.pay_to)
    assert item["metadata"] == {"description": "Current weather", "mimeType": "application/json",
                                "serviceName": "Weather Co", "tags": ["weather", "x"]}  # fmt: skip
    assert item["discoveryInfo"]["output"]["example"] == {"temperatureC": 21}
    assert item["extensions"] == ["bazaar"]


async def test_an_unpaid_payment_adds_nothing_and_a_bad_declaration_is_rejected(
    tmp_path, p
) -> None:
    unpaid = declaring(valid_body(p))
    unpaid["paymentRequirements"] = unpaid["paymentRequirements"] | {"amount": "1"}
    broken = declaration("GET")
    broken["info"]["input"]["method"] = "DELETE"
    broken["schema"]["properties"]["input"]["properties"]["method"]["enum"] = ["GET"]
    refused = declaring(valid_body(p), entry=broken)
    async with facilitator_at(tmp_path / "ledger.sqlite3", p, FakeChain()) as client:
        not_paid = await client.post("/settle", json=unpaid)
        settled = await client.post("/settle", json=refused)
        listing = (await client.get("/discovery/resources")).json()
    assert not_paid.json()["success"] is False and responses(not_paid) is None
    assert settled.json()["success"] is True  # cataloguing never decides a payment
    result = responses(settled)["bazaar"]
    assert result["status"] == "rejected"
    assert "input/method" in result["rejectedReason"]
    assert listing["items"] == [] and listing["pagination"]["total"] == 0


async def test_filters_pages_and_search(tmp_path, p) -> None:
    other = Parties(fee_payer=p.fee_payer)
    bodies = [
        declaring(valid_body(p), "http://a.example/api/weather", tags=["weather"]),
        declaring(valid_body(p), "http://a.example/api/news", tags=["news"]),
        declaring(valid_body(other), "http://b.example/api/stocks", serviceName="Stocks"),
    ]
    async with facilitator_at(tmp_path / "ledger.sqlite3", p, FakeChain()) as client:
        for body in bodies:
            assert (await client.post("/settle", json=body)).json()["success"] is True

        async def urls(path: str, **params) -> list[str]:
            answer = await client.get(path, params=params)
            assert answer.status_code == 200, answer.text
            return [item["resource"] for item in answer.json()["items"]]

        assert len(await urls("/discovery/resources")) == 3
        assert await urls("/discovery/resources", payTo=str(other.pay_to)) == [
            "http://b.example/api/stocks"
        ]
        assert len(await urls("/discovery/resources", type="http", scheme="exact")) == 3
        assert await urls("/discovery/resources", type="mcp") == []
        assert len(await urls("/discovery/resources", network=p.network)) == 3
        assert await urls("/discovery/resources", network="solana:other") == []
        assert len(await urls("/discovery/resources", extensions="bazaar")) == 3
        assert await urls("/discovery/resources", extensions="bazaar,payment-identifier") == []
        first = await urls("/discovery/resources", limit=2)
        rest = await client.get("/discovery/resources", params={"limit": 2, "offset": 2})
        assert len(first) == 2 and rest.json()["pagination"] == {
            "limit": 2, "offset": 2, "total": 3}  # fmt: skip
        assert [*first, rest.json()["items"][0]["resource"]] == sorted(
            [*first, rest.json()["items"][0]["resource"]]
        )
        assert await urls("/discovery/search", query="NEWS") == ["http://a.example/api/news"]
        assert await urls("/discovery/search", query="stocks b.example") == [
            "http://b.example/api/stocks"
        ]
        assert await urls("/discovery/search", query="news", payTo=str(other.pay_to)) == []


@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    [
        ("/discovery/resources", "limit=ten", "limit"),
        ("/discovery/resources", "limit=101", "limit"),
        ("/discovery/resources", "limit=0", "limit"),
        ("/discovery/resources", "offset=-1", "offset"),
        ("/discovery/resources", "offset=", "offset"),
        ("/discovery/resources", "type=http&type=mcp", "type"),
        ("/discovery/search", "", "query"),
        ("/discovery/search", "query=" + "x" * 201, "query"),
    ],
)
async def test_a_bad_query_is_a_400_naming_the_parameter(tmp_path, p, path, query, parameter):
    async with facilitator_at(tmp_path / "ledger.sqlite3", p, FakeChain()) as client:
        answer = await client.get(f"{path}?{query}")
    assert answer.status_code == 400
    assert answer.json()["parameter"] == parameter
    assert f"'{parameter}'" in answer.json()["message"]


async def test_the_catalogue_outlives_a_restart(tmp_path, p) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    chain = FakeChain()
    async with facilitator_at(ledger, p, chain) as client:
        await client.post("/settle", json=declaring(valid_body(p)))
        before = (await client.get("/discovery/resources")).json()
    assert (tmp_path / "ledger-bazaar.sqlite3").exists()
    async with facilitator_at(ledger, p, chain) as client:
        after = (await client.get("/discovery/resources")).json()
    assert after == before and after["pagination"]["total"] == 1


async def test_the_catalogue_is_bounded_in_memory_and_on_disk(tmp_path, p) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    chain = FakeChain()
    urls = [f"http://a.example/api/{name}" for name in ("one", "two", "three")]
    async with facilitator_at(ledger, p, chain, max_entries=2) as client:
        for url in urls:
            assert (await client.post("/settle", json=declaring(valid_body(p), url))).json()[
                "success"
            ]
        listed = (await client.get("/discovery/resources")).json()
    assert sorted(i["resource"] for i in listed["items"]) == sorted(urls[1:])  # oldest left
    async with facilitator_at(ledger, p, chain, max_entries=2) as client:
        again = (await client.get("/discovery/resources")).json()
    assert again["items"] == listed["items"]
    with sqlite3.connect(tmp_path / "ledger-bazaar.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM bazaar_resources").fetchone() == (2,)
