"""Discovery through the real stack (chain, facilitator, server as processes): a payment for a
bazaar-declaring route fills the facilitator's catalogue; the facilitator answers
EXTENSION-RESPONSES to the server, which never passes it on to the buyer."""

from __future__ import annotations

import httpx
import pytest

from sandbox.payer import PaymentPolicy, X402Client
from sandbox.protocol.bazaar import decode_extension_responses
from sandbox.server.app import SERVICE_NAME

pytestmark = pytest.mark.timeout(180)


async def test_a_paid_route_is_catalogued_and_the_side_channel_stays_with_the_server(
    x402_stack, x402_payer
):
    url = f"{x402_stack.server_url}/api/weather"
    async with X402Client(
        x402_payer.keypair, rpc_url=x402_stack.rpc_url, policy=PaymentPolicy()
    ) as client:
        paid = await client.get(url)
    assert paid.status == 200, (paid.text, paid.rejection)
    assert paid.payment.wire["extensions"]["bazaar"]  # the payer echoed the declaration
    assert "extension-responses" not in {name.lower() for name in paid.headers}

    async with httpx.AsyncClient(base_url=x402_stack.facilitator_url, timeout=10) as facilitator:
        listing = (await facilitator.get("/discovery/resources", params={"limit": 100})).json()
        found = (await facilitator.get("/discovery/search", params={"query": "weather"})).json()
        # The same payment settled again (its id's settlement is kept: the same success): the
        # facilitator does send the header, which the buyer above never saw.
        again = await facilitator.post("/settle", json=paid.payment.facilitator_body())
    (item,) = [i for i in listing["items"] if i["resource"] == url]
    assert item["metadata"]["serviceName"] == SERVICE_NAME
    assert item["metadata"]["tags"] == ["weather"]
    assert item["accepts"][0]["amount"] == "1000" and "memo" not in item["accepts"][0]["extra"]
    assert item["discoveryInfo"]["input"] == {"type": "http", "method": "GET"}
    assert url in [i["resource"] for i in found["items"]]
    assert again.json()["success"] is True
    assert decode_extension_responses(again.headers["extension-responses"]) == {
        "bazaar": {"status": "success"}
    }
