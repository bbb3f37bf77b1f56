"""payment-identifier on the paywall, in process: the resend, the conflict, the required id, the
resend while the first is in flight, what frees or keeps an id, and a restart.

The facilitator is the in-process ScriptedFacilitator (it counts verify and settle calls);
tests/server/test_payment_identifier_stack.py pays the real stack.
"""

from __future__ import annotations

import asyncio
import itertools

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from server_payments import pay_v1, pay_v2
from server_scripted_facilitator import ScriptedFacilitator
from server_tiny_app import PAY_TO

from sandbox.protocol import decode_json_header, decode_payment_required, encode_json_header
from sandbox.protocol.payment_identifier import EXTENSION, new_payment_id, with_payment_id
from sandbox.server import PaymentMiddleware, Paywall, PricedRoute, RoutePricing

SECRET = b"memo-secret-for-the-id-tests-000"


def id_app(paywall: Paywall) -> tuple[FastAPI, dict[str, int]]:
    """/opt takes an id, /must requires one, /fail fails; each answer numbers its run."""
    runs = {"opt": 0, "must": 0, "fail": 0}
    counter = itertools.count(1)
    app = FastAPI()
    app.add_middleware(
        PaymentMiddleware,
        paywall=paywall,
        pricing=RoutePricing([
            PricedRoute("/opt", "$0.01", "Optional id", payment_identifier="optional"),
            PricedRoute("/must", "$0.01", "Required id", payment_identifier="required"),
            PricedRoute("/fail", "$0.01", "Fails", payment_identifier="optional"),
        ]),
    )  # fmt: skip

    @app.get("/opt")
    async def opt():
        runs["opt"] += 1
        return {"run": next(counter)}

    @app.get("/must")
    async def must():
        runs["must"] += 1
        return {"run": next(counter)}

    @app.get("/fail")
    async def fail():
        runs["fail"] += 1
        return JSONResponse({"error": "nope"}, status_code=500)

    return app, runs


def with_id(headers: dict[str, str], payment_id: str | None, **info) -> dict[str, str]:
    """The PAYMENT-SIGNATURE payload of `headers` with a payment identifier added."""
    payload = decode_json_header(headers["PAYMENT-SIGNATURE"], "PAYMENT-SIGNATURE")
    if payment_id is not None:
        payload["extensions"] = with_payment_id(payload.get("extensions"), payment_id)
    if info:
        payload["extensions"] = {EXTENSION: {"info": info}}
    return {"PAYMENT-SIGNATURE": encode_json_header(payload)}


async def _ready(facilitator, record=None) -> tuple[Paywall, httpx.AsyncClient, dict]:
    paywall = Paywall(
        pay_to=PAY_TO, facilitator=facilitator, memo_secret=SECRET, payment_record=record
    )
    app, runs = id_app(paywall)
    assert await paywall.wait_ready(5)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return paywall, httpx.AsyncClient(transport=transport, base_url="http://t"), runs


@pytest.fixture
async def paid():
    facilitator = ScriptedFacilitator()
    paywall, client, runs = await _ready(facilitator)
    yield client, facilitator, runs, paywall
    await client.aclose()
    await paywall.close()


async def test_the_402_declares_the_extension_and_whether_it_is_required(paid) -> None:
    client, *_ = paid
    for path, required in (("/opt", False), ("/must", True)):
        challenge = decode_payment_required((await client.get(path)).headers["PAYMENT-REQUIRED"])
        declared = challenge.extensions[EXTENSION]
        assert declared["info"] == {"required": required}
        assert declared["schema"]["properties"]["id"]["minLength"] == 16


async def test_a_resend_gets_the_first_answer_and_is_not_settled_again(paid, payer) -> None:
    client, facilitator, runs, _ = paid
    headers = with_id(pay_v2(await client.get("/opt"), payer), new_payment_id())
    first = await client.get("/opt", headers=headers)
    assert first.status_code == 200, first.text
    again = await client.get("/opt", headers=headers)
    assert again.status_code == 200
    assert again.content == first.content  # the kept body ({"run": 1}), not a second run
    assert again.headers["PAYMENT-RESPONSE"] == first.headers["PAYMENT-RESPONSE"]
    assert runs["opt"] == 1
    assert facilitator.calls["verify"] == 1 and facilitator.calls["settle"] == 1


async def test_the_same_payload_encoded_otherwise_is_the_same_payment(paid, payer) -> None:
    client, facilitator, _runs, _ = paid
    headers = with_id(pay_v2(await client.get("/opt"), payer), new_payment_id())
    first = await client.get("/opt", headers=headers)
    payload = decode_json_header(headers["PAYMENT-SIGNATURE"], "PAYMENT-SIGNATURE")
    reordered = dict(reversed(list(payload.items())))  # same JSON, keys in another order
    again = await client.get("/opt", headers={"PAYMENT-SIGNATURE": encode_json_header(reordered)})
    assert again.status_code == 200 and again.content == first.content
    assert facilitator.calls["settle"] == 1


async def test_the_same_id_with_another_payment_is_a_conflict(paid, payer) -> None:
    client, facilitator, runs, _ = paid
    payment_id = new_payment_id()
    first = await client.get("/opt", headers=with_id(pay_v2(await client.get("/opt"), payer),
                                                     payment_id))  # fmt: skip
    assert first.status_code == 200
    resigned = with_id(pay_v2(await client.get("/opt"), payer), payment_id)  # a new transaction
    conflict = await client.get("/opt", headers=resigned)
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "payment_identifier_conflict"
    assert payment_id in conflict.json()["message"]
    assert facilitator.calls["settle"] == 1 and runs["opt"] == 1


async def test_ids_are_scoped_to_their_route(paid, payer) -> None:
    client, facilitator, _runs, _ = paid
    payment_id = new_payment_id()
    for path in ("/opt", "/must"):
        answer = await client.get(path, headers=with_id(pay_v2(await client.get(path), payer),
                                                        payment_id))  # fmt: skip
        assert answer.status_code == 200, answer.text
    assert facilitator.calls["settle"] == 2


async def test_a_required_id_that_is_missing_is_a_400_before_verification(paid, payer) -> None:
    client, facilitator, runs, _ = paid
    answer = await client.get("/must", headers=pay_v2(await client.get("/must"), payer))
    assert answer.status_code == 400
    assert answer.json()["error"] == "payment_identifier_required"
    assert "extensions" in answer.json()["message"]
    v1 = await client.get("/must", headers=pay_v1(await client.get("/must"), payer))
    assert v1.status_code == 400 and "v1 payments cannot carry one" in v1.json()["message"]
    assert facilitator.calls["verify"] == 0 and runs["must"] == 0


@pytest.mark.parametrize(
    "info",
    [
        {"id": "short"},
        {"id": "x" * 129},
        {"id": "has spaces in it, oh no"},
        {"id": 12345678901234567},
    ],
)
async def test_a_malformed_id_is_a_400_naming_the_rule(paid, payer, info) -> None:
    client, facilitator, *_ = paid
    headers = with_id(pay_v2(await client.get("/opt"), payer), None, required=False, **info)
    answer = await client.get("/opt", headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_payment_identifier"
    assert "16 to 128 characters" in answer.json()["message"]
    assert facilitator.calls["verify"] == 0


async def test_a_resend_while_the_first_settles_waits_and_gets_its_answer(payer) -> None:
    gate = asyncio.Event()

    class SlowFacilitator(ScriptedFacilitator):
        async def settle(self, request):
            self.calls["settle"] += 1
            self.settling.set()
            await gate.wait()
            self.calls["settle"] -= 1  # counted again by the real one
            return await super().settle(request)

    facilitator = SlowFacilitator()
    paywall, client, runs = await _ready(facilitator)
    claims = asyncio.Event()
    claim = paywall.ids.store.claim
    seen = []

    async def counted_claim(*args):
        seen.append(args)
        if len(seen) == 2:
            claims.set()
        return await claim(*args)

    paywall.ids.store.claim = counted_claim
    try:
        headers = with_id(pay_v2(await client.get("/opt"), payer), new_payment_id())
        first = asyncio.create_task(client.get("/opt", headers=headers))
        await asyncio.wait_for(facilitator.settling.wait(), 10)
        second = asyncio.create_task(client.get("/opt", headers=headers))
        await asyncio.wait_for(claims.wait(), 10)  # the resend reached the store mid-settlement
        gate.set()
        one, two = await asyncio.gather(first, second)
        assert one.status_code == two.status_code == 200
        assert one.content == two.content
        assert one.headers["PAYMENT-RESPONSE"] == two.headers["PAYMENT-RESPONSE"]
        assert facilitator.calls == {"supported": 1, "verify": 1, "settle": 1}
        assert runs["opt"] == 1
    finally:
        await client.aclose()
        await paywall.close()


async def test_a_pending_settlement_keeps_the_id_bound_to_its_payload(payer) -> None:
    facilitator = ScriptedFacilitator("pending", "pending", "duplicate")
    paywall, client, runs = await _ready(facilitator)
    try:
        payment_id = new_payment_id()
        headers = with_id(pay_v2(await client.get("/opt"), payer), payment_id)
        pending = await client.get("/opt", headers=headers)
        assert pending.status_code == 402 and pending.json()["error"] == "settlement_pending"
        resigned = with_id(pay_v2(await client.get("/opt"), payer), payment_id)
        assert (await client.get("/opt", headers=resigned)).status_code == 409
        resolved = await client.get("/opt", headers=headers)  # the same payment: resolved
        assert resolved.status_code == 200, resolved.text
        # the handler ran before each settle attempt (authorization mode); the resend of the
        # served payment runs nothing
        before = (runs["opt"], dict(facilitator.calls))
        assert (await client.get("/opt", headers=headers)).content == resolved.content
        assert (runs["opt"], facilitator.calls) == before
    finally:
        await client.aclose()
        await paywall.close()


async def test_a_refused_payment_frees_its_id(paid, payer) -> None:
    client, facilitator, _runs, _ = paid
    payment_id = new_payment_id()
    wrong_memo = with_id(pay_v2(await client.get("/opt"), payer, memo="not-ours"), payment_id)
    refused = await client.get("/opt", headers=wrong_memo)
    assert refused.status_code == 402  # bound to no 402 of ours: nothing was charged
    fixed = with_id(pay_v2(await client.get("/opt"), payer), payment_id)
    assert (await client.get("/opt", headers=fixed)).status_code == 200
    assert facilitator.calls["settle"] == 1


async def test_a_handler_failure_frees_the_id_and_keeps_no_answer(paid, payer) -> None:
    client, facilitator, runs, paywall = paid
    headers = with_id(pay_v2(await client.get("/fail"), payer), new_payment_id())
    assert (await client.get("/fail", headers=headers)).status_code == 500
    assert (await client.get("/fail", headers=headers)).status_code == 500
    assert runs["fail"] == 2 and facilitator.calls["settle"] == 0
    assert len(paywall.ids.store) == 0


async def test_kept_answers_survive_a_restart(tmp_path, payer) -> None:
    record = tmp_path / "payments.sqlite3"
    first, client, _ = await _ready(ScriptedFacilitator(), record)
    headers = with_id(pay_v2(await client.get("/opt"), payer), new_payment_id())
    served = await client.get("/opt", headers=headers)
    assert served.status_code == 200
    await client.aclose()  # no close of `first`: killed

    after = ScriptedFacilitator()
    restarted, client, runs = await _ready(after, record)
    try:
        again = await client.get("/opt", headers=headers)
        assert again.status_code == 200 and again.content == served.content
        assert again.headers["PAYMENT-RESPONSE"] == served.headers["PAYMENT-RESPONSE"]
        assert after.calls["verify"] == after.calls["settle"] == 0 and runs["opt"] == 0
    finally:
        await client.aclose()
        await restarted.close()
        first.pending.close()


def test_the_answer_is_kept_as_json_with_the_body_in_base64(tmp_path) -> None:
    import sqlite3

    async def run():
        record = tmp_path / "payments.sqlite3"
        paywall, client, _ = await _ready(ScriptedFacilitator(), record)
        from solders.keypair import Keypair

        headers = with_id(pay_v2(await client.get("/opt"), Keypair()), new_payment_id())
        await client.get("/opt", headers=headers)
        await client.aclose()
        await paywall.close()
        return record

    record = asyncio.run(run())
    (answer,) = sqlite3.connect(record).execute("SELECT answer FROM payment_ids").fetchone()
    kept = orjson.loads(answer)
    assert kept["status"] == 200
    assert any(name == "payment-response" for name, _ in kept["headers"])


async def test_an_identified_payment_is_marked_served_in_the_file_before_its_answer(
    tmp_path, payer
) -> None:
    """Its served mark is posted (pending.ANSWER_FOLLOWS) and commits with the kept answer,
    which is waited for: both are in the file when the client has the content."""
    import sqlite3

    record = tmp_path / "payments.sqlite3"
    paywall, client, _ = await _ready(ScriptedFacilitator(), record)
    paywall.pending.record.writer.post_delay = 30.0  # a posted row alone would wait 30 s
    try:
        headers = with_id(pay_v2(await client.get("/opt"), payer), new_payment_id())
        assert (await client.get("/opt", headers=headers)).status_code == 200
        other = sqlite3.connect(record)
        states = [row[0] for row in other.execute("SELECT state FROM payments")]
        answers = other.execute("SELECT COUNT(*) FROM payment_ids WHERE answer IS NOT NULL")
        assert states == ["served"] and answers.fetchone()[0] == 1
        other.close()
    finally:
        await client.aclose()
        await paywall.close()
