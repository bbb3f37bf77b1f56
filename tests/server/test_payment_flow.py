"""Paid requests through the tiny app and the stand-in facilitator: the happy paths, binding,
handler failures, settlement pending, and headers that are not payments."""

from __future__ import annotations

import base64

import orjson
import pytest
from server_payments import pay_v1, pay_v2

from sandbox.protocol import decode_payment_required, decode_settle_response, encode_json_header


@pytest.mark.parametrize(
    "pay, receipt_header", [(pay_v2, "PAYMENT-RESPONSE"), (pay_v1, "X-PAYMENT-RESPONSE")]
)
async def test_paid_request_is_served_with_a_receipt(
    stack, facilitator, payer, pay, receipt_header
):
    client, _, runs = stack
    challenge = await client.get("/a")
    response = await client.get("/a", headers=pay(challenge, payer))
    assert response.status_code == 200, response.text
    assert response.json() == {"content": "A"}
    receipt = decode_settle_response(response.headers[receipt_header], receipt_header)
    assert receipt.success and receipt.transaction in facilitator.settled
    assert runs["a"] == 1
    assert facilitator.calls["verify"] == facilitator.calls["settle"] == 1
    # The requirements sent to the facilitator carry the challenge's memo.
    sent = facilitator.bodies[-1]["paymentRequirements"]
    assert (
        sent["extra"]["memo"]
        == decode_payment_required(challenge.headers["PAYMENT-REQUIRED"]).accepts[0].memo
    )


@pytest.mark.parametrize("pay", [pay_v2, pay_v1])
async def test_payment_for_route_a_is_refused_on_route_b_of_the_same_price(
    stack, facilitator, payer, pay
):
    client, _, runs = stack
    headers = pay(await client.get("/a"), payer)
    response = await client.get("/b", headers=headers)
    assert response.status_code == 402
    assert response.json()["error"] == "invalid_exact_svm_payload_memo_mismatch"
    assert "GET /b" in response.json()["message"]
    assert runs["b"] == 0 and facilitator.calls["verify"] == 0


async def test_payment_for_one_price_is_refused_at_another(stack, facilitator, payer):
    client, _, runs = stack
    headers = pay_v2(await client.get("/dyn?n=1"), payer)
    response = await client.get("/dyn?n=1000", headers=headers)
    assert response.status_code == 402 and runs["dyn"] == 0
    assert (await client.get("/dyn?n=1", headers=headers)).status_code == 200


async def test_payment_for_get_is_refused_on_post(stack, payer):
    client, _, _ = stack
    headers = pay_v2(await client.get("/a"), payer)
    assert (await client.post("/post", headers=headers)).status_code == 402


async def test_v2_accepted_must_match_the_offer(stack, facilitator, payer):
    client, _, runs = stack
    challenge = await client.get("/a")
    payload = orjson.loads(base64.b64decode(pay_v2(challenge, payer)["PAYMENT-SIGNATURE"]))
    payload["accepted"]["maxTimeoutSeconds"] = 3600
    response = await client.get("/a", headers={"PAYMENT-SIGNATURE": encode_json_header(payload)})
    assert response.status_code == 402
    assert "maxTimeoutSeconds" in response.json()["message"]
    # A memo the transaction does not carry is refused too.
    headers = pay_v2(
        challenge, payer, memo="x402.0000000000000000.00000000000000000000000000000000"
    )
    payload = orjson.loads(base64.b64decode(headers["PAYMENT-SIGNATURE"]))
    payload["accepted"] = orjson.loads(
        base64.b64decode(pay_v2(challenge, payer)["PAYMENT-SIGNATURE"])
    )["accepted"]
    response = await client.get("/a", headers={"PAYMENT-SIGNATURE": encode_json_header(payload)})
    assert response.status_code == 402
    assert "transaction's memo" in response.json()["message"]
    assert runs["a"] == 0 and facilitator.calls["verify"] == 0


async def test_handler_failure_is_never_settled(stack, facilitator, payer):
    client, _, runs = stack
    response = await client.get("/fail", headers=pay_v2(await client.get("/fail"), payer))
    assert response.status_code == 500
    assert "PAYMENT-RESPONSE" not in response.headers
    assert runs["fail"] == 1
    assert facilitator.calls["verify"] == 1 and facilitator.calls["settle"] == 0


async def test_handler_exception_is_never_settled(stack, facilitator, payer):
    client, _, runs = stack
    response = await client.get("/boom", headers=pay_v2(await client.get("/boom"), payer))
    assert response.status_code == 500
    assert runs["boom"] == 1 and facilitator.calls["settle"] == 0


async def test_upfront_route_settles_before_the_handler(stack, facilitator, payer):
    client, _, runs = stack
    facilitator.modes["settle"] = "fail"
    response = await client.get("/up", headers=pay_v2(await client.get("/up"), payer))
    assert response.status_code == 402
    assert response.json()["error"] == "transaction_failed"
    assert not decode_settle_response(response.headers["PAYMENT-RESPONSE"]).success
    assert runs["up"] == 0  # settlement failed: the handler never ran
    facilitator.modes["settle"] = "ok"
    response = await client.get("/up", headers=pay_v2(await client.get("/up"), payer))
    assert response.status_code == 200 and runs["up"] == 1
    assert decode_settle_response(response.headers["PAYMENT-RESPONSE"]).success


async def test_verify_rejection_names_the_reason(stack, facilitator, payer):
    client, _, runs = stack
    facilitator.modes["verify"] = "reject"
    response = await client.get("/a", headers=pay_v2(await client.get("/a"), payer))
    assert response.status_code == 402
    assert response.json()["error"] == "invalid_exact_svm_payload_amount_insufficient"
    assert response.json()["message"] == "pays 1 atomic unit"
    assert decode_payment_required(response.headers["PAYMENT-REQUIRED"]).error == (
        "invalid_exact_svm_payload_amount_insufficient"
    )
    assert runs["a"] == 0 and facilitator.calls["settle"] == 0


async def test_4xx_with_a_reason_is_a_rejection(stack, facilitator, payer):
    client, _, _ = stack
    facilitator.modes["verify"] = "reason4xx"
    response = await client.get("/a", headers=pay_v2(await client.get("/a"), payer))
    assert response.status_code == 402 and response.json()["error"] == "invalid_payload"


async def test_replayed_payment_is_not_served_twice(stack, facilitator, payer):
    client, _, runs = stack
    headers = pay_v2(await client.get("/a"), payer)
    assert (await client.get("/a", headers=headers)).status_code == 200
    again = await client.get("/a", headers=headers)
    assert again.status_code == 402 and again.json()["error"] == "duplicate_settlement"
    assert runs["a"] == 2  # authorization flow: the handler ran, its answer was withheld
    assert len(facilitator.settled) == 1


async def test_pending_settlement_is_retried_once_then_served_on_resend(stack, facilitator, payer):
    client, paywall, runs = stack
    facilitator.modes["settle"] = "pending"
    facilitator.pending_times = 1
    response = await client.get("/a", headers=pay_v2(await client.get("/a"), payer))
    assert response.status_code == 200  # the one retry resolved it
    assert facilitator.calls["settle"] == 2

    facilitator.pending_times = 3
    headers = pay_v2(await client.get("/a"), payer)
    first = await client.get("/a", headers=headers)
    assert first.status_code == 402 and first.json()["error"] == "settlement_pending"
    receipt = decode_settle_response(first.headers["PAYMENT-RESPONSE"])
    assert not receipt.success and receipt.error_reason == "settlement_pending"
    assert receipt.transaction  # the signature, so the client can look it up
    assert len(paywall.pending) == 1

    second = await client.get("/a", headers=headers)  # pending, once more
    assert second.status_code == 402 and second.json()["error"] == "settlement_pending"
    third = await client.get("/a", headers=headers)  # settles now: served
    assert third.status_code == 200 and third.json() == {"content": "A"}
    assert decode_settle_response(third.headers["PAYMENT-RESPONSE"]).success
    fourth = await client.get("/a", headers=headers)  # served once only
    assert fourth.status_code == 402 and fourth.json()["error"] == "duplicate_settlement"
    assert len(paywall.pending) == 0
    assert runs["a"] == 4  # authorization runs before settling; the resend that resolved ran it
    assert len(facilitator.settled) == 2


async def test_resend_after_settle_timeout_is_served_once(stack, facilitator, payer):
    """The facilitator settled but its answer never came: the resend is served, not charged."""
    client, _, runs = stack
    headers = pay_v2(await client.get("/a"), payer)
    facilitator.modes["settle"] = "hang"
    response = await client.get("/a", headers=headers)
    assert response.status_code == 504
    assert "content" not in response.json()
    facilitator.modes["settle"] = "duplicate"  # it had settled meanwhile
    response = await client.get("/a", headers=headers)
    assert response.status_code == 200 and response.json() == {"content": "A"}
    assert (await client.get("/a", headers=headers)).status_code == 402
    assert runs["a"] == 3


async def test_resend_after_settle_timeout_is_not_served_on_a_replayed_nonce(
    stack, facilitator, payer
):
    """duplicate_settlement without this payment's signature: the memo went to another
    transaction, which proves nothing was paid for this one."""
    client, paywall, runs = stack
    headers = pay_v2(await client.get("/a"), payer)
    facilitator.modes["settle"] = "hang"
    assert (await client.get("/a", headers=headers)).status_code == 504
    facilitator.modes["settle"] = "replay"
    response = await client.get("/a", headers=headers)
    assert response.status_code == 402 and response.json()["error"] == "duplicate_settlement"
    assert "content" not in response.json()
    assert len(paywall.pending) == 1  # kept: a later resend may find it settled after all
    assert runs["a"] == 1  # only the first attempt ran the handler, and its answer was withheld


async def test_facilitator_lying_about_settlement_serves_nothing(stack, facilitator, payer):
    client, _, runs = stack
    facilitator.modes["settle"] = "lie"
    response = await client.get("/up", headers=pay_v2(await client.get("/up"), payer))
    assert response.status_code == 502
    assert response.json()["error"] == "settlement_not_proven"
    assert runs["up"] == 0
    response = await client.get("/a", headers=pay_v1(await client.get("/a"), payer))
    assert response.status_code == 502 and "content" not in response.json()


@pytest.mark.parametrize(
    "headers, needle",
    [
        ({"PAYMENT-SIGNATURE": "%%%"}, "not valid base64"),
        ({"X-PAYMENT": base64.b64encode(b"[1, 2]").decode()}, "must be an object"),
        ({"X-PAYMENT": base64.b64encode(b"not json").decode()}, "not JSON"),
        ({"PAYMENT-SIGNATURE": encode_json_header({"x402Version": 2})}, "missing field"),
        ({"PAYMENT-SIGNATURE": encode_json_header({"x402Version": 7})}, "x402Version"),
        (
            {
                "X-PAYMENT": encode_json_header(
                    {"x402Version": 1, "scheme": "exact", "network": "solana-devnet", "payload": {}}
                )
            },
            "payload.transaction",
        ),
        (
            {
                "X-PAYMENT": encode_json_header(
                    {
                        "x402Version": 1,
                        "scheme": "exact",
                        "network": "solana-devnet",
                        "payload": {"transaction": base64.b64encode(b"\x01\x02").decode()},
                    }
                )
            },
            "not a Solana transaction",
        ),
    ],
)
async def test_malformed_payment_headers_get_400_without_the_facilitator(
    stack, facilitator, headers, needle
):
    client, _, runs = stack
    response = await client.get("/a", headers=headers)
    assert response.status_code == 400
    assert needle in response.json()["message"]
    assert facilitator.calls["verify"] == 0 and runs["a"] == 0


async def test_payload_in_the_wrong_versions_header_is_named(stack, payer):
    client, _, _ = stack
    challenge = await client.get("/a")
    v2 = pay_v2(challenge, payer)["PAYMENT-SIGNATURE"]
    response = await client.get("/a", headers={"X-PAYMENT": v2})
    assert response.status_code == 400 and "PAYMENT-SIGNATURE" in response.json()["message"]
    v1 = pay_v1(challenge, payer)["X-PAYMENT"]
    response = await client.get("/a", headers={"PAYMENT-SIGNATURE": v1})
    assert response.status_code == 400 and "X-PAYMENT" in response.json()["message"]


async def test_metrics_count_outcomes_and_facilitator_latency(stack, payer):
    client, paywall, _ = stack
    await client.get("/a", headers=pay_v2(await client.get("/a"), payer))
    text = paywall.metrics.render().decode()
    assert 'x402_server_requests_total{outcome="challenge",route="/a"} 1.0' in text
    assert 'x402_server_requests_total{outcome="paid",route="/a"} 1.0' in text
    assert 'x402_server_facilitator_call_seconds_count{call="settle",outcome="200"} 1.0' in text


async def test_twin_request_that_timed_out_is_not_served_again(stack, facilitator, payer):
    """The same payment sent twice at once: one is settled and served, the other's /settle times
    out (it passed verify before the first settled). Resending it must not serve it again."""
    client, _, runs = stack
    headers = pay_v2(await client.get("/a"), payer)
    assert (await client.get("/a", headers=headers)).status_code == 200
    facilitator.modes["settle"] = "hang"  # the twin, whose verify came before the settlement
    assert (await client.get("/a", headers=headers)).status_code == 504
    facilitator.modes["settle"] = "ok"  # the facilitator: already settled, with its signature
    again = await client.get("/a", headers=headers)
    assert again.status_code == 402 and again.json()["error"] == "duplicate_settlement"
    assert len(facilitator.settled) == 1
    assert runs["a"] == 2  # the resend was refused before the handler
