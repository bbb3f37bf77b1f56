"""`--settle-status`: settle answers carry `status` and `statusAnchor` (settle_status.py).

In process over the fake chain for every state, then through a real chain and facilitator
process: the anchor's `ref` is the transaction on chain and its finality is what the chain says.
"""

from __future__ import annotations

import datetime

import httpx
import pytest
from facilitator_builders import Parties, valid_body
from facilitator_stack import Funded, start_facilitator
from fake_chain import FakeChain, signature_and_blockhash

from sandbox.facilitator.app import FacilitatorApp
from sandbox.facilitator.faults import Fault, Faults
from sandbox.facilitator.injection import FaultMiddleware
from sandbox.facilitator.metrics import FacilitatorMetrics
from sandbox.facilitator.service import Facilitator
from sandbox.facilitator.settings import Settings
from sandbox.facilitator.settle_status import finality_of
from sandbox.protocol import reasons
from sandbox.protocol.networks import SOLANA_DEVNET

AMOUNT = 10_000


def _observed(anchor: dict) -> datetime.datetime:
    return datetime.datetime.fromisoformat(anchor["observedAt"].replace("Z", "+00:00"))


async def _app(tmp_path, p: Parties, chain: FakeChain, settle_status: bool):
    settings = Settings(
        rpc_url="http://fake.invalid:1",
        fee_payers=(p.fee_payer,),
        ledger_path=tmp_path / "ledger.sqlite3",
        settle_status=settle_status,
    )
    metrics = FacilitatorMetrics()
    facilitator = Facilitator(settings, chain, metrics=metrics)
    faults = Faults()
    app = FacilitatorApp(settings, facilitator, faults)
    await facilitator.start()
    await facilitator.wait_ready()
    return facilitator, app, FaultMiddleware(app, faults, metrics, settings.max_body_bytes)


@pytest.fixture
async def on(tmp_path):
    p, chain = Parties(), FakeChain()
    facilitator, app, asgi = await _app(tmp_path, p, chain, settle_status=True)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4022") as client:
        yield p, chain, app, client
    await facilitator.stop()


def test_finality_words():
    assert finality_of("finalized", None) == "finalized"
    assert finality_of("confirmed", 3) == "confirmations:3"
    assert finality_of("processed", 0) == "confirmations:0"
    assert finality_of("confirmed", None) == "unconfirmed"
    assert finality_of(None, None) == "unconfirmed"


async def test_off_by_default_the_answer_has_no_status(tmp_path):
    p, chain = Parties(), FakeChain()
    facilitator, _, asgi = await _app(tmp_path, p, chain, settle_status=False)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4022") as client:
        answer = (await client.post("/settle", json=valid_body(p, AMOUNT))).json()
        health = (await client.get("/health")).json()
    await facilitator.stop()
    assert answer["success"] is True
    assert "status" not in answer and "statusAnchor" not in answer
    assert health["settleStatus"] is False


async def test_settled_names_its_transaction_and_finality(on):
    p, _, _, client = on
    answer = (await client.post("/settle", json=valid_body(p, AMOUNT))).json()
    assert answer["success"] is True and answer["status"] == "settled"
    anchor = answer["statusAnchor"]
    assert anchor["kind"] == "transaction" and anchor["network"] == SOLANA_DEVNET
    assert anchor["ref"] == answer["transaction"]
    # The fake chain tells no confirmation count for a confirmed landing: nothing more is known.
    assert anchor["finality"] == "unconfirmed"
    age = datetime.datetime.now(datetime.UTC) - _observed(anchor)
    assert datetime.timedelta(0) <= age < datetime.timedelta(minutes=1)
    assert (await client.get("/health")).json()["settleStatus"] is True


async def test_a_finalized_landing_says_finalized(on):
    p, chain, _, client = on
    chain.commitment = "finalized"
    answer = (await client.post("/settle", json=valid_body(p, AMOUNT))).json()
    assert answer["statusAnchor"]["finality"] == "finalized"


async def test_pending_carries_the_broadcast_transaction(on):
    p, _, app, client = on
    app.faults.replace([Fault("settle", "pending")])
    answer = (await client.post("/settle", json=valid_body(p, AMOUNT))).json()
    assert answer["errorReason"] == reasons.SETTLEMENT_PENDING
    assert answer["status"] == "pending"
    assert answer["transaction"] and answer["statusAnchor"]["ref"] == answer["transaction"]
    assert answer["statusAnchor"]["kind"] == "transaction"


async def test_expired_has_no_anchor_to_point_at(on):
    p, chain, _, client = on
    chain.auto_land = False
    payment = valid_body(p, AMOUNT)
    first = (await client.post("/settle", json=payment)).json()
    assert first["status"] == "pending"
    chain.drop()  # never landed
    chain.expire(signature_and_blockhash(payment["paymentPayload"]["payload"]["transaction"])[1])
    expired = (await client.post("/settle", json=payment)).json()
    assert expired["errorReason"] == reasons.TRANSACTION_FAILED, expired
    assert expired["status"] == "expired"
    assert expired["statusAnchor"]["kind"] == "none" and "ref" not in expired["statusAnchor"]


async def test_a_refusal_has_no_status(on):
    p, chain, _, client = on
    chain.simulation_err = {"InstructionError": [2, {"Custom": 1}]}
    answer = (await client.post("/settle", json=valid_body(p, AMOUNT))).json()
    assert answer["success"] is False and answer["errorReason"] != reasons.SETTLEMENT_PENDING
    assert "status" not in answer and "statusAnchor" not in answer


@pytest.mark.timeout(120)
def test_through_a_real_chain_the_anchor_is_the_landed_transaction(chain0, fee_payer_party):
    funded = Funded(chain0, Parties(fee_payer=fee_payer_party.p.fee_payer))
    with start_facilitator(chain0, [fee_payer_party.p.fee_payer], "--settle-status") as fac:
        answer = fac.settle(funded.payment(AMOUNT))
    assert answer["success"] is True and answer["status"] == "settled"
    anchor = answer["statusAnchor"]
    assert anchor["ref"] == answer["transaction"]
    assert funded.transaction(anchor["ref"]) is not None  # on chain
    # The facilitator waits for `confirmed`: the chain counts the blocks on top of it.
    assert anchor["finality"].startswith("confirmations:") or anchor["finality"] == "finalized"


async def test_a_settled_payment_sent_again_says_settled(on):
    p, _, _, client = on
    payment = valid_body(p, AMOUNT)
    first = (await client.post("/settle", json=payment)).json()
    again = (await client.post("/settle", json=payment)).json()
    assert again["errorReason"] == reasons.DUPLICATE_SETTLEMENT
    assert again["status"] == "settled" and again["statusAnchor"]["ref"] == first["transaction"]


async def test_a_slow_chain_does_not_hold_the_answer(on, monkeypatch):
    import asyncio

    from sandbox.facilitator import settle_status

    p, chain, _, client = on
    monkeypatch.setattr(settle_status, "LOOKUP_SECONDS", 0.2)
    real_status = chain.status

    async def slow_status(signature):
        if chain.statuses.get(signature) is not None and slow["on"]:
            await asyncio.sleep(30)  # a chain that does not answer this lookup
        return await real_status(signature)

    slow = {"on": False}
    monkeypatch.setattr(chain, "status", slow_status)

    async def settle():
        slow["on"] = True
        return (await client.post("/settle", json=valid_body(p, AMOUNT))).json()

    answer = await asyncio.wait_for(settle(), 10)
    assert answer["success"] is True and answer["statusAnchor"]["finality"] == "unconfirmed"
