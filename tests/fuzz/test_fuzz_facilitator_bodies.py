"""The facilitator's /verify and /settle bodies, fuzzed over real HTTP to the real facilitator
process, with the real chain behind it (fuzz_stack.py; a few requests in flight,
fuzz_http.py). Valid v1 and v2 bodies built by sandbox.payer are mutated (fields replaced,
deleted, added, unknown fields nested 250-1,100 deep, transaction bytes changed), and random
JSON of every shape and broken bytes are sent as well (fuzz_json.py).

Whatever arrives, the answer is a 4xx or a 200 in the x402 shape (isValid / success, a refusal
with its reason and message), never a 5xx or a broken connection: 10,500 inputs in all,
counted in the "fuzz inputs" summary; and 600 more to POST /accepts (a 200 or a 400 naming
the problem).
"""

from __future__ import annotations

import httpx
import pytest
from fuzz_http import Sender, fuzz
from fuzz_json import RANDOMS, Hostile, dumps
from fuzz_tally import tally
from hypothesis import given
from hypothesis import strategies as st

VERSIONS = st.sampled_from([1, 2])
PATHS = st.sampled_from(["/verify", "/verify", "/settle"])
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain", ""]


@pytest.fixture(scope="module")
def facilitator(fuzz_target):
    sender = Sender(fuzz_target.facilitator_url, tally("facilitator bodies"))
    yield sender
    sender.close()


def send(facilitator: Sender, path: str, body: bytes, content_type: str = CONTENT_TYPES[0]):
    headers = {"content-type": content_type} if content_type else {}
    check = verify_shape if path == "/verify" else settle_shape
    facilitator.send("POST", path, f"{path} {body[:300]!r}", check, content=body, headers=headers)


def verify_shape(answer: httpx.Response) -> str | None:
    return _shape(answer, "isValid", "invalidReason", "invalidMessage")


def settle_shape(answer: httpx.Response) -> str | None:
    return _shape(answer, "success", "errorReason", "errorMessage")


def _shape(answer: httpx.Response, flag: str, reason: str, message: str) -> str | None:
    """None for an answer in the x402 shape (a refusal names its reason and says why)."""
    try:
        data = answer.json()
    except ValueError:
        return "not JSON"
    if not isinstance(data, dict) or not isinstance(data.get(flag), bool):
        return f"no boolean {flag!r}"
    if not data[flag] and not (data.get(reason) and data.get(message)):
        return f"a refusal without {reason!r} and {message!r}"
    return None


def test_mutated_bodies(fuzz_target, facilitator):
    @fuzz(facilitator, 4_000)
    @given(path=PATHS, version=VERSIONS, rng=RANDOMS)
    def one(path, version, rng):
        body = Hostile(rng).mutated(fuzz_target.facilitator_body(version))
        send(facilitator, path, dumps(body))

    one()


def test_unknown_fields_nested_deep(fuzz_target, facilitator):
    """An unknown field holding a value nested 250-1,100 deep, anywhere in a valid body."""

    @fuzz(facilitator, 1_500)
    @given(path=PATHS, version=VERSIONS, rng=RANDOMS)
    def one(path, version, rng):
        body = Hostile(rng).with_deep_field(fuzz_target.facilitator_body(version))
        send(facilitator, path, dumps(body))

    one()


def test_random_json_of_every_shape(facilitator):
    @fuzz(facilitator, 2_500)
    @given(path=PATHS, rng=RANDOMS)
    def one(path, rng):
        hostile = Hostile(rng)
        body = hostile.shaped() if rng.random() < 0.6 else hostile.value(20)
        send(facilitator, path, dumps(body))

    one()


def test_broken_bytes(fuzz_target, facilitator):
    @fuzz(facilitator, 1_500)
    @given(path=PATHS, version=VERSIONS, rng=RANDOMS)
    def one(path, version, rng):
        hostile = Hostile(rng)
        valid = fuzz_target.facilitator_body(version)
        source = rng.choice([valid, hostile.mutated(valid), hostile.shaped()])
        send(facilitator, path, hostile.body_bytes(dumps(source)), rng.choice(CONTENT_TYPES))

    one()


def test_mutated_transactions(fuzz_target, facilitator):
    @fuzz(facilitator, 1_000)
    @given(path=PATHS, version=VERSIONS, rng=RANDOMS)
    def one(path, version, rng):
        body = fuzz_target.facilitator_body(version)
        wire = body["paymentPayload"]
        transaction = Hostile(rng).transaction(wire["payload"]["transaction"])
        payload = {**wire["payload"], "transaction": transaction}
        send(facilitator, path, dumps({**body, "paymentPayload": {**wire, "payload": payload}}))

    one()


def accepts_shape(answer: httpx.Response) -> str | None:
    """POST /accepts answers a PaymentRequired (200) or a 400 saying what is wrong."""
    try:
        data = answer.json()
    except ValueError:
        return "not JSON"
    if answer.status_code == 200:
        ok = isinstance(data, dict) and isinstance(data.get("accepts"), list)
        return None if ok else "a 200 without an accepts list"
    return None if isinstance(data, dict) and data.get("error") else "a refusal without an error"


def test_accepts_bodies(fuzz_target, facilitator):
    """faremeter's POST /accepts (accepts.py): a valid PaymentRequired of the sandbox's offer,
    mutated, and random JSON values."""
    base = {
        "x402Version": 2,
        "resource": {"url": "http://127.0.0.1:4021/api/premium-content"},
        "accepts": [fuzz_target.facilitator_body(2)["paymentRequirements"]],
    }

    @fuzz(facilitator, 600)
    @given(rng=RANDOMS, mutate=st.booleans())
    def one(rng, mutate):
        hostile = Hostile(rng)
        body = dumps(hostile.mutated(base) if mutate else hostile.value())
        what = f"/accepts {body[:300]!r}"
        facilitator.send("POST", "/accepts", what, accepts_shape, content=body,
                         headers={"content-type": "application/json"})  # fmt: skip

    one()
