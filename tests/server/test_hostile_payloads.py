"""Payments that are valid in every field but carry hostile extras: a 400 naming the problem
before the facilitator is called, never a 500.

An unknown field nested 300-1,000 deep used to pass validation and then make the paywall fail
where it writes the payload out for the facilitator (pydantic refuses past ~255 levels): a 500.
The fuzzers (`make fuzz`) found it; these are the regression tests.
"""

from __future__ import annotations

import base64

import orjson
import pytest
from server_payments import pay_v1, pay_v2

from sandbox.protocol import MAX_JSON_DEPTH, reasons


def with_deep_field(headers: dict[str, str], levels: int, where: tuple[str, ...] = ()) -> dict:
    """The payment header with `levels` nested arrays at an unknown field of the object at
    `where` (written by hand: orjson writes at most ~254 levels)."""
    ((name, value),) = headers.items()
    payload = orjson.loads(base64.b64decode(value))
    target = payload
    for key in where:
        target = target[key]
    target["unknownField"] = "__deep__"
    text = orjson.dumps(payload).replace(b'"__deep__"', b"[" * levels + b"1" + b"]" * levels)
    return {name: base64.b64encode(text).decode()}


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 300, 1_000, 1_100])
@pytest.mark.parametrize(
    ("pay", "where"),
    [(pay_v2, ()), (pay_v2, ("accepted", "extra")), (pay_v1, ()), (pay_v1, ("payload",))],
)
async def test_unknown_field_nested_deep_is_a_400(stack, facilitator, payer, pay, where, levels):
    client, _, runs = stack
    headers = with_deep_field(pay(await client.get("/a"), payer), levels, where)
    response = await client.get("/a", headers=headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == reasons.INVALID_PAYLOAD
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in body["message"]
    assert facilitator.calls["verify"] == 0 and runs["a"] == 0


@pytest.mark.parametrize("pay", [pay_v2, pay_v1])
async def test_unknown_field_within_the_limit_is_paid_and_forwarded(stack, facilitator, payer, pay):
    client, _, runs = stack
    # The payload object is level 1: its unknown field holds MAX_JSON_DEPTH - 1 levels.
    headers = with_deep_field(pay(await client.get("/a"), payer), MAX_JSON_DEPTH - 1)
    response = await client.get("/a", headers=headers)
    assert response.status_code == 200, response.text
    assert runs["a"] == 1
    forwarded = facilitator.bodies[-1]["paymentPayload"]["unknownField"]
    assert orjson.dumps(forwarded) == b"[" * (MAX_JSON_DEPTH - 1) + b"1" + b"]" * (
        MAX_JSON_DEPTH - 1
    )


async def test_huge_version_value_is_named_briefly(stack, payer):
    client, _, _ = stack
    ((name, value),) = pay_v2(await client.get("/a"), payer).items()
    payload = {**orjson.loads(base64.b64decode(value)), "x402Version": "9" * 5_000}
    response = await client.get("/a", headers={name: base64.b64encode(orjson.dumps(payload))})
    assert response.status_code == 400
    assert "x402Version" in response.json()["message"]
    assert len(response.json()["message"]) < 300  # the value is not echoed whole


async def test_a_long_field_is_not_echoed_whole(stack, payer):
    client, _, _ = stack
    ((name, value),) = pay_v2(await client.get("/a"), payer).items()
    payload = orjson.loads(base64.b64decode(value))
    payload["accepted"]["payTo"] = "x" * 5_000
    response = await client.get("/a", headers={name: base64.b64encode(orjson.dumps(payload))})
    assert response.status_code == 402
    assert "accepted.payTo is 'xxx" in response.json()["message"]
    assert len(response.json()["message"]) < 300
