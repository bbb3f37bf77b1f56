"""The 402 challenge: both versions in one answer, fresh memo each time, no caching."""

from __future__ import annotations

from server_tiny_app import PAY_TO

from sandbox.protocol import decode_payment_required, decode_payment_required_v1


async def test_402_carries_v1_body_and_v2_header(stack, facilitator):
    client, _, runs = stack
    response = await client.get("/a?x=1")
    assert response.status_code == 402
    assert response.headers["cache-control"] == "no-store"
    v1 = decode_payment_required_v1(response.content)
    v2 = decode_payment_required(response.headers["PAYMENT-REQUIRED"])
    assert v1.x402_version == 1 and v2.x402_version == 2
    (r1,) = v1.accepts
    (r2,) = v2.accepts
    assert (r1.network, r2.network) == ("solana-devnet", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1")
    assert r1.max_amount_required == r2.amount == "10000"
    assert r1.pay_to == r2.pay_to == PAY_TO
    assert r1.fee_payer == r2.fee_payer == facilitator.fee_payer
    assert r1.memo == r2.memo and r1.memo.startswith("x402.")
    assert r1.resource == "http://testserver/a?x=1" == v2.resource.url
    assert v2.resource.description == "Route A" and v2.resource.mime_type == "application/json"
    assert runs["a"] == 0
    assert facilitator.calls["verify"] == facilitator.calls["settle"] == 0


async def test_every_challenge_has_its_own_memo(stack):
    client, _, _ = stack
    memos = set()
    for _ in range(5):
        response = await client.get("/a")
        memos.add(decode_payment_required(response.headers["PAYMENT-REQUIRED"]).accepts[0].memo)
    assert len(memos) == 5


async def test_dynamic_price_comes_from_the_request(stack):
    client, _, runs = stack
    response = await client.get("/dyn?n=7")
    assert response.status_code == 402
    assert decode_payment_required(response.headers["PAYMENT-REQUIRED"]).accepts[0].amount == "700"
    bad = await client.get("/dyn?n=lots")
    assert bad.status_code == 400
    assert "'n' must be an integer" in bad.json()["message"]
    assert runs["dyn"] == 0


async def test_free_routes_and_unpriced_methods_pass_through(stack):
    client, _, _ = stack
    assert (await client.get("/free")).json() == {"free": True}
    assert (await client.post("/post")).status_code == 402
    assert (await client.head("/a")).status_code == 402  # HEAD runs the GET handler: paid too
