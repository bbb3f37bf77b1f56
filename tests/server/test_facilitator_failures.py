"""A facilitator that is down, slow, broken or lying never leads to content served unpaid."""

from __future__ import annotations

import httpx
import pytest
from server_fake_facilitator import FakeFacilitator
from server_payments import pay_v1, pay_v2
from server_tiny_app import PAY_TO, tiny_app

from sandbox.processes import free_port
from sandbox.server import FacilitatorClient, FacilitatorError, Paywall

BROKEN = [
    ("500", 502, "facilitator_bad_answer", "HTTP 500"),
    ("html", 502, "facilitator_bad_answer", "not JSON"),
    ("garbage", 502, "facilitator_bad_answer", "not JSON"),
    ("bad4xx", 502, "facilitator_bad_answer", "HTTP 404"),
    ("close", 502, "facilitator", ""),
    ("hang", 504, "facilitator_timeout", "did not answer within 1s"),
    # a well-formed answer that cannot be written back out (a receipt header): refused at once
    ("deep", 502, "facilitator_bad_answer", "nested deeper than 64 levels"),
]


@pytest.mark.parametrize("call", ["verify", "settle"])
@pytest.mark.parametrize("mode, status, code, needle", BROKEN)
async def test_broken_facilitator_gives_502_or_504_and_no_content(
    stack, facilitator, payer, call, mode, status, code, needle
):
    client, _, runs = stack
    facilitator.modes[call] = mode
    for path in ("/a", "/up"):
        response = await client.get(path, headers=pay_v2(await client.get(path), payer))
        assert response.status_code == status, response.text
        body = response.json()
        assert body["error"].startswith(code) and needle in body["message"]
        assert "content" not in body
        assert "PAYMENT-RESPONSE" not in response.headers
    assert runs["up"] == 0  # upfront: nothing runs unless settled
    if call == "verify":
        assert runs["a"] == 0 and facilitator.calls["settle"] == 0


async def test_facilitator_down_gives_502(payer):
    paywall = Paywall(facilitator_url=f"http://127.0.0.1:{free_port()}", pay_to=PAY_TO)
    paywall.fee_payer = str(payer.pubkey())  # as if learned before the facilitator went down
    app, runs = tiny_app(paywall)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/a", headers=pay_v1(await client.get("/a"), payer))
    await paywall.close()
    assert response.status_code == 502
    assert response.json()["error"] == "facilitator_unreachable"
    assert "unreachable" in response.json()["message"] and runs["a"] == 0


async def test_paid_routes_answer_503_until_the_fee_payer_is_learned(payer):
    fake = FakeFacilitator()
    fake.modes["supported"] = "500"
    await fake.start()
    paywall = Paywall(facilitator_url=fake.url, pay_to=PAY_TO, facilitator_timeout=1.0)
    app, runs = tiny_app(paywall)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/a")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            assert response.json()["error"] == "paywall_not_ready"
            assert (await client.get("/free")).status_code == 200
            assert not await paywall.wait_ready(0.5)
            assert fake.calls["supported"] >= 2  # it keeps asking
            assert "HTTP 500" in paywall.not_ready_reason
            fake.modes["supported"] = "ok"
            assert await paywall.wait_ready(10)
            assert paywall.fee_payer == fake.fee_payer
            assert (await client.get("/a")).status_code == 402
            assert runs["a"] == 0
    finally:
        await paywall.close()
        await fake.stop()


async def test_facilitator_without_our_network_is_not_usable(facilitator):
    paywall = Paywall(facilitator_url=facilitator.url, pay_to=PAY_TO, network="solana-testnet")
    try:
        assert not await paywall.wait_ready(0.3)
        assert "offers no 'exact' payments" in paywall.not_ready_reason
        assert "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z" in paywall.not_ready_reason
    finally:
        await paywall.close()


@pytest.mark.parametrize("mode", ["garbage", "html", "500", "hang"])
async def test_client_names_what_the_facilitator_did_wrong(facilitator, mode):
    facilitator.modes["verify"] = mode
    client = FacilitatorClient(facilitator.url, timeout=0.5)
    try:
        with pytest.raises(FacilitatorError) as caught:
            await client.verify({"x402Version": 2})
    finally:
        await client.close()
    assert "/verify" in caught.value.message
    assert caught.value.status == (504 if mode == "hang" else 502)
