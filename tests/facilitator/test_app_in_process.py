"""The facilitator app in process over a FakeChain: wire bodies, the fault wrappers, records.

The same app create_app serves (FacilitatorApp behind FaultMiddleware), reached through httpx's
ASGI transport; test_faults.py and test_payments.py prove the same against real processes.
"""

from __future__ import annotations

import httpx
import pytest
from facilitator_builders import Parties, body, instructions, requirements, sign, valid_body
from fake_chain import FakeChain
from solders.hash import Hash

from sandbox.facilitator.app import FacilitatorApp
from sandbox.facilitator.faults import Fault, Faults
from sandbox.facilitator.injection import FaultMiddleware
from sandbox.facilitator.metrics import FacilitatorMetrics
from sandbox.facilitator.service import Facilitator
from sandbox.facilitator.settings import Settings
from sandbox.protocol import reasons
from sandbox.protocol.networks import SOLANA_DEVNET

AMOUNT = 10_000
RECORD_KEYS = {
    "time", "operation", "reason", "message", "payer", "amount", "payTo", "x402Version",
    "latencyMs",
}  # fmt: skip


class Stack:
    def __init__(self, client: httpx.AsyncClient, app: FacilitatorApp, chain: FakeChain):
        self.client, self.app, self.chain = client, app, chain

    def faults(self, *faults: Fault) -> None:
        self.app.faults.replace(list(faults))

    async def post(self, path: str, payload) -> httpx.Response:
        if isinstance(payload, bytes):
            return await self.client.post(path, content=payload)
        return await self.client.post(path, json=payload)


@pytest.fixture
def p() -> Parties:
    return Parties()


@pytest.fixture
async def stack(tmp_path, p):
    chain = FakeChain()
    settings = Settings(
        rpc_url="http://fake.invalid:1",
        fee_payers=(p.fee_payer,),
        ledger_path=tmp_path / "ledger.sqlite3",
        max_body_bytes=4096,
    )
    metrics = FacilitatorMetrics()
    facilitator = Facilitator(settings, chain, metrics=metrics)
    faults = Faults()
    app = FacilitatorApp(settings, facilitator, faults)
    asgi = FaultMiddleware(app, faults, metrics, settings.max_body_bytes)
    await facilitator.start()
    await facilitator.wait_ready()
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4022") as client:
        yield Stack(client, app, chain)
    await facilitator.stop()


async def test_verify_and_settle_answer_the_wire_bodies(stack, p):
    payment = valid_body(p, AMOUNT)
    verdict = await stack.post("/verify", payment)
    assert verdict.status_code == 200
    assert verdict.json() == {"isValid": True, "payer": str(p.client.pubkey())}
    receipt = (await stack.post("/settle", payment)).json()
    signature = receipt.pop("transaction")
    assert receipt == {
        "success": True,
        "network": SOLANA_DEVNET,
        "payer": str(p.client.pubkey()),
        "amount": str(AMOUNT),
    }
    assert signature in stack.chain.statuses
    (settled,) = stack.app.answers.settlements
    assert settled["success"] is True and settled["transaction"] == signature
    twice = (await stack.post("/settle", payment)).json()
    assert (
        twice["errorReason"] == reasons.DUPLICATE_SETTLEMENT and twice["transaction"] == signature
    )


async def test_a_body_over_the_cap_meets_its_413_before_a_transport_fault(stack, p):
    stack.faults(Fault("settle", "error500"))
    oversized = (await stack.post("/settle", b"{" + b" " * 5000 + b"}")).json()
    assert oversized["errorReason"] == reasons.INVALID_PAYLOAD
    answer = await stack.post("/settle", valid_body(p, AMOUNT))
    assert answer.status_code == 500
    assert answer.json() == {"error": "injected fault: error500"}
    assert stack.chain.sent == []


async def test_injected_invalid_and_fake_success_answer_without_the_chain(stack, p):
    invalid = reasons.INSUFFICIENT_FUNDS
    stack.faults(
        Fault("verify", "invalid", reason=invalid), Fault("settle", "invalid", reason=invalid)
    )
    payment = valid_body(p, AMOUNT)
    verdict = (await stack.post("/verify", payment)).json()
    assert verdict == {
        "isValid": False,
        "invalidReason": reasons.INSUFFICIENT_FUNDS,
        "invalidMessage": "injected fault",
        "payer": str(p.client.pubkey()),
    }
    refused = (await stack.post("/settle", payment)).json()
    assert refused == {
        "success": False,
        "transaction": "",
        "network": SOLANA_DEVNET,
        "payer": str(p.client.pubkey()),
        "errorReason": reasons.INSUFFICIENT_FUNDS,
        "errorMessage": "injected fault",
    }
    stack.faults(Fault("verify", "fake_success"), Fault("settle", "fake_success"))
    assert (await stack.post("/verify", payment)).json() == {"isValid": True}
    faked = (await stack.post("/settle", payment)).json()
    assert faked["success"] is True and faked["amount"] == str(AMOUNT)
    assert stack.chain.calls.count("simulate") == 0 and stack.chain.sent == []


async def test_the_pending_fault_keeps_a_pending_settlement_pending(stack, p):
    stack.faults(Fault("settle", "pending"))
    payment = valid_body(p, AMOUNT)
    first = (await stack.post("/settle", payment)).json()
    assert first["errorReason"] == reasons.SETTLEMENT_PENDING
    assert "injected fault: not waiting" in first["errorMessage"]
    again = (await stack.post("/settle", payment)).json()
    assert again["errorReason"] == reasons.SETTLEMENT_PENDING
    assert "still waiting" in again["errorMessage"]
    stack.faults()
    resolved = (await stack.post("/settle", payment)).json()
    assert resolved["success"] is True and resolved["transaction"] == first["transaction"]
    assert len(stack.chain.sent) == 1  # it had landed; resolved from its status
    # A pending answer is no rejection (as before the seam): /_sandbox/rejections stays empty.
    assert [r for r in stack.app.answers.rejections if r["operation"] == "settle"] == []


async def test_every_rejection_record_has_one_shape(stack, p):
    await stack.post("/verify", b"not json")
    bad = body(sign(p, instructions(p, AMOUNT), Hash.new_unique()), requirements(p, AMOUNT + 1))
    bad["paymentRequirements"]["amount"] = str(AMOUNT + 1)
    await stack.post("/verify", bad)
    stack.chain.landing_err = {"InstructionError": [2, {"Custom": 1}]}
    await stack.post("/settle", valid_body(p, AMOUNT))
    records = list(stack.app.answers.rejections)
    assert [r["operation"] for r in records] == ["verify", "verify", "settle"]
    assert all(set(record) == RECORD_KEYS for record in records), records
    assert records[0]["payTo"] is None and records[1]["payTo"] == str(p.pay_to)
    assert records[2]["reason"] == reasons.TRANSACTION_FAILED


async def test_event_feed_off_publishes_nothing_and_says_how_to_turn_it_on(tmp_path, p):
    from sandbox.events import FEED_OFF
    from sandbox.facilitator.cli import build_parser

    assert build_parser().parse_args(["--event-feed", "off"]).event_feed == "off"
    assert build_parser().parse_args([]).event_feed == "on"
    settings = Settings(
        rpc_url="http://fake.invalid:1",
        fee_payers=(p.fee_payer,),
        ledger_path=tmp_path / "ledger.sqlite3",
        event_feed=False,
    )
    facilitator = Facilitator(settings, FakeChain(), metrics=FacilitatorMetrics())
    app = FacilitatorApp(settings, facilitator, Faults())
    await facilitator.start()
    await facilitator.wait_ready()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4022") as client:
        assert (await client.post("/verify", json=valid_body(p, AMOUNT))).json()["isValid"]
        off = await client.get("/_sandbox/events")
    await facilitator.stop()
    assert off.status_code == 404 and off.json() == {"error": FEED_OFF}
    assert "--event-feed on" in FEED_OFF
    assert len(app.answers.feed.ring) == 0  # the verify was not published
