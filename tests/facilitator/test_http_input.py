"""Bad input gets a 4xx in the protocol's shape, never a 5xx: hand-picked cases and fuzzing."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from facilitator_builders import Parties
from facilitator_stack import Funded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.protocol import reasons

AMOUNT = 10_000

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def assert_shaped(path: str, answer) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text)
    data = answer.json()
    if path == "/verify":
        assert isinstance(data["isValid"], bool)
        if not data["isValid"]:
            assert data["invalidReason"] and data["invalidMessage"]
    else:
        assert isinstance(data["success"], bool)
        if not data["success"]:
            assert data["errorReason"] and data["errorMessage"]


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "x402Version"),
        (b'{"x402Version": 7}', "7"),
        (b'{"x402Version": 2, "paymentPayload": {}}', "missing"),
        (b'{"x402Version": 2, "paymentPayload": 5, "paymentRequirements": "x"}', "wrong type"),
    ],
)
@pytest.mark.parametrize("path", ["/verify", "/settle"])
def test_malformed_bodies_get_400_naming_the_problem(fac, path, raw, needle):
    answer = fac.post(path, raw, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    data = answer.json()
    if path == "/verify":
        assert data["isValid"] is False
        assert data["invalidReason"] in (reasons.INVALID_PAYLOAD, reasons.INVALID_X402_VERSION)
        assert needle in data["invalidMessage"]
    else:
        assert data["success"] is False
        assert data["errorReason"] in (reasons.INVALID_PAYLOAD, reasons.INVALID_X402_VERSION)
        assert needle in data["errorMessage"]


def test_wrong_types_in_a_real_payment(fac, funded):
    payment = funded.payment(AMOUNT)
    payment["paymentRequirements"]["amount"] = 10000  # a number, not a string
    answer = fac.post("/verify", payment)
    assert answer.status_code == 400
    assert "amount" in answer.json()["invalidMessage"]


@pytest.mark.parametrize("path", ["/verify", "/settle"])
def test_amount_too_long_to_be_a_number_is_a_client_error(fac, funded, path):
    """Python refuses int() of more than 4,300 digits; that must not become a 500."""
    payment = funded.payment(AMOUNT)
    for requirements in (payment["paymentRequirements"], payment["paymentPayload"]["accepted"]):
        requirements["amount"] = "9" * 5000
    answer = fac.post(path, payment)
    assert_shaped(path, answer)
    data = answer.json()
    assert "amount" in (data.get("invalidMessage") or data.get("errorMessage"))


@pytest.mark.parametrize("levels", [65, 300, 1_000, 1_100])
@pytest.mark.parametrize("path", ["/verify", "/settle"])
def test_unknown_field_nested_deep_is_an_invalid_payload(fac, funded, path, levels):
    """Found by `make fuzz`: a field nested 300-1,000 deep passed validation (unknown fields are
    kept), then failed where pydantic writes the payload out: a 500 `unexpected_verify_error`."""
    payment = funded.payment(AMOUNT)
    payment["paymentPayload"]["accepted"]["extra"]["unknownField"] = "__deep__"
    raw = json.dumps(payment).replace('"__deep__"', "[" * levels + "1" + "]" * levels)
    answer = fac.post(path, raw.encode(), headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert_shaped(path, answer)
    data = answer.json()
    assert (data.get("invalidReason") or data.get("errorReason")) == reasons.INVALID_PAYLOAD
    assert "nested deeper than 64 levels" in (data.get("invalidMessage") or data["errorMessage"])


@pytest.mark.parametrize("field", ["payTo", "asset"])
def test_a_long_field_is_not_echoed_whole(fac, funded, field):
    payment = funded.payment(AMOUNT)
    for requirements in (payment["paymentRequirements"], payment["paymentPayload"]["accepted"]):
        requirements[field] = "x" * 5_000
    answer = fac.post("/verify", payment)
    assert_shaped("/verify", answer)
    message = answer.json()["invalidMessage"]
    assert f"{field} 'xxx" in message and len(message) < 300


def test_body_size_is_capped(fac):
    answer = fac.post("/verify", b"{" + b" " * (70 * 1024) + b"}")
    assert answer.status_code == 413
    assert answer.json()["invalidReason"] == reasons.INVALID_PAYLOAD


def test_unknown_routes_and_methods(fac):
    assert fac.get("/nope").status_code == 404
    assert fac.get("/verify").status_code == 405
    assert fac.post("/supported", {}).status_code == 405


def _mutations(payment: dict):
    raw = base64.b64decode(payment["paymentPayload"]["payload"]["transaction"])
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((*path, key))
                walk(value, (*path, key))

    walk(payment, ())
    field_change = st.tuples(st.just("field"), st.sampled_from(paths), json_values)
    field_drop = st.tuples(st.just("drop"), st.sampled_from(paths), st.none())
    byte_flip = st.tuples(
        st.just("bytes"),
        st.lists(
            st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)), min_size=1, max_size=4
        ),
        st.none(),
    )
    cut = st.tuples(st.just("cut"), st.integers(0, len(raw)), st.binary(max_size=8))
    b64 = st.tuples(st.just("b64"), st.text(max_size=40), st.none())
    return st.one_of(field_change, field_drop, byte_flip, cut, b64)


def _apply(payment: dict, mutation) -> dict:
    kind, where, what = mutation
    mutated = copy.deepcopy(payment)
    tx = mutated["paymentPayload"]["payload"]
    raw = bytearray(base64.b64decode(tx["transaction"]))
    if kind in ("field", "drop"):
        node = mutated
        for key in where[:-1]:
            node = node[key]
        if kind == "field":
            node[where[-1]] = what
        else:
            del node[where[-1]]
    elif kind == "bytes":
        for index, value in where:
            raw[index] = value
        tx["transaction"] = base64.b64encode(bytes(raw)).decode()
    elif kind == "cut":
        tx["transaction"] = base64.b64encode(bytes(raw[:where]) + what).decode()
    else:
        tx["transaction"] = where
    return mutated


def test_fuzz_mutated_payments_never_5xx(fac, chain0, fee_payer_party):
    funded = Funded(chain0, Parties(fee_payer=fee_payer_party.p.fee_payer))
    payment = funded.payment(AMOUNT)
    v1 = funded.payment(AMOUNT, version=1)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.sampled_from([payment, v1]).flatmap(lambda p: st.tuples(st.just(p), _mutations(p))),
        st.sampled_from(["/verify", "/settle"]),
    )
    def run(case, path):
        base, mutation = case
        assert_shaped(path, fac.post(path, _apply(base, mutation)))

    run()


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())),
    st.sampled_from(["/verify", "/settle"]),
)
def test_fuzz_random_bodies_never_5xx(fac, raw, path):
    answer = fac.post(path, raw)
    assert answer.status_code in (400, 413), answer.text
    assert_shaped(path, answer)
