"""payment-identifier on the facilitator, in process over a FakeChain: a settle resent after a
lost answer gets that answer (not duplicate_settlement), another payload with the id is a 409,
and the records outlive a restart (a SQLite file beside the ledger)."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from facilitator_builders import Parties, valid_body
from fake_chain import FakeChain

from sandbox.facilitator.app import FacilitatorApp
from sandbox.facilitator.service import Facilitator
from sandbox.facilitator.settings import Settings
from sandbox.protocol.payment_identifier import new_payment_id, with_payment_id


@contextlib.asynccontextmanager
async def facilitator_at(ledger, p: Parties, chain: FakeChain, apps: list | None = None):
    settings = Settings(rpc_url="http://fake.invalid:1", fee_payers=(p.fee_payer,),
                        ledger_path=ledger)  # fmt: skip
    facilitator = Facilitator(settings, chain)
    await facilitator.start()
    await facilitator.wait_ready()
    app = FacilitatorApp(settings, facilitator)
    if apps is not None:
        apps.append(app)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4022") as c:
            yield c
    finally:
        await facilitator.stop()


def identified(body: dict, payment_id: str) -> dict:
    payload = body["paymentPayload"]
    return {**body, "paymentPayload": {**payload, "extensions": with_payment_id(None, payment_id)}}


@pytest.fixture
def p() -> Parties:
    return Parties()


async def test_a_resent_settle_gets_the_first_answer(tmp_path, p) -> None:
    chain = FakeChain()
    body = identified(valid_body(p), new_payment_id())
    async with facilitator_at(tmp_path / "ledger.sqlite3", p, chain) as client:
        first = await client.post("/settle", json=body)
        again = await client.post("/settle", json=body)
        without_id = valid_body(p)
        plain = await client.post("/settle", json=without_id)
        plain_again = await client.post("/settle", json=without_id)
    assert first.json()["success"] is True
    assert again.status_code == 200 and again.json() == first.json()
    assert len(chain.sent) == 2  # the first payment once, the id-less one once
    # without an id, the resend is told it was settled already (what a server without its own
    # record of the first answer cannot tell from a replay)
    assert plain.json()["success"] is True
    assert plain_again.json()["errorReason"] == "duplicate_settlement"


async def test_another_payload_with_the_id_is_a_409_on_verify_and_settle(tmp_path, p) -> None:
    chain = FakeChain()
    payment_id = new_payment_id()
    async with facilitator_at(tmp_path / "ledger.sqlite3", p, chain) as client:
        assert (await client.post("/settle", json=identified(valid_body(p), payment_id))).json()[
            "success"
        ]
        other = identified(valid_body(p), payment_id)  # a new transaction, the same id
        verify = await client.post("/verify", json=other)
        settle = await client.post("/settle", json=other)
    assert verify.status_code == 409 and verify.json()["invalidReason"] == (
        "payment_identifier_conflict"
    )
    assert settle.status_code == 409
    assert settle.json()["errorReason"] == "payment_identifier_conflict"
    assert settle.json()["success"] is False and settle.json()["network"]
    assert len(chain.sent) == 1


async def test_verify_of_a_settled_identified_payment_says_valid(tmp_path, p) -> None:
    chain = FakeChain()
    body = identified(valid_body(p), new_payment_id())
    async with facilitator_at(tmp_path / "ledger.sqlite3", p, chain) as client:
        await client.post("/settle", json=body)
        verdict = await client.post("/verify", json=body)
        unidentified = await client.post("/verify", json=valid_body(p) | {
            "paymentPayload": body["paymentPayload"] | {"extensions": None}})  # fmt: skip
    assert verdict.json() == {"isValid": True, "payer": str(p.client.pubkey())}
    assert unidentified.json()["invalidReason"] == "duplicate_settlement"


async def test_a_malformed_id_is_a_400(tmp_path, p) -> None:
    body = valid_body(p)
    body["paymentPayload"]["extensions"] = {"payment-identifier": {"info": {"id": "tiny"}}}
    async with facilitator_at(tmp_path / "ledger.sqlite3", p, FakeChain()) as client:
        answer = await client.post("/settle", json=body)
    assert answer.status_code == 400
    assert answer.json()["errorReason"] == "invalid_payment_identifier"


async def test_the_records_outlive_a_restart(tmp_path, p) -> None:
    chain = FakeChain()
    ledger = tmp_path / "ledger.sqlite3"
    body = identified(valid_body(p), new_payment_id())
    async with facilitator_at(ledger, p, chain) as client:
        first = (await client.post("/settle", json=body)).json()
    async with facilitator_at(ledger, p, chain) as client:
        again = await client.post("/settle", json=body)
    assert again.json() == first and len(chain.sent) == 1


async def test_a_kept_answer_lost_in_a_crash_is_answered_from_the_ledger(tmp_path, p) -> None:
    """The facilitator posts its id rows without waiting (service.py): if a crash loses one, the
    resend is answered from the ledger, duplicate_settlement naming this payment's transaction
    (what the server proves on chain), and nothing is sent twice."""
    import sqlite3

    chain = FakeChain()
    ledger = tmp_path / "ledger.sqlite3"
    body = identified(valid_body(p), new_payment_id())
    async with facilitator_at(ledger, p, chain) as client:
        first = (await client.post("/settle", json=body)).json()
    ids = sqlite3.connect(ledger.with_name("ledger-payment-ids.sqlite3"))
    with ids:
        assert ids.execute("DELETE FROM payment_ids").rowcount == 1  # the row a crash lost
    ids.close()
    async with facilitator_at(ledger, p, chain) as client:
        again = (await client.post("/settle", json=body)).json()
    assert first["success"] is True
    assert again["errorReason"] == "duplicate_settlement"
    assert again["transaction"] == first["transaction"]
    assert len(chain.sent) == 1


async def test_replays_and_conflicts_are_counted_and_on_the_feed(tmp_path, p) -> None:
    chain, apps = FakeChain(), []
    payment_id = new_payment_id()
    body = identified(valid_body(p), payment_id)
    async with facilitator_at(tmp_path / "ledger.sqlite3", p, chain, apps) as client:
        await client.post("/settle", json=body)
        await client.post("/settle", json=body)  # the kept answer
        await client.post("/verify", json=identified(valid_body(p), payment_id))  # 409
        metrics = (await client.get("/metrics")).text
    (app,) = apps
    events = [e for e in app.answers.feed.since(0) if e["kind"] == "payment_id"]
    assert [(e["operation"], e["effect"]) for e in events] == [
        ("settle", "replayed"),
        ("verify", "conflict"),
    ]
    assert all(e["paymentId"] == payment_id and e["payTo"] == str(p.pay_to) for e in events)
    assert 'operation="settle",outcome="payment_id_replayed"} 1.0' in metrics
    assert 'operation="verify",outcome="payment_id_conflict"} 1.0' in metrics
