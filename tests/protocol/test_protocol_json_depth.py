"""Over-deep JSON is an invalid payload where messages are read, never an error later on.

An unknown field nested 300-1,000 deep used to pass validation (extra fields are kept) and then
fail where the message was written back out: pydantic refuses to serialise past ~255 levels and
orjson past ~254, a 500 from the server and `unexpected_verify_error` from the facilitator.
"""

from __future__ import annotations

import base64

import orjson
import protocol_samples as s
import pytest

from sandbox.protocol import (
    MAX_JSON_DEPTH,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    ProtocolError,
    check_json_depth,
    decode_payment_payload,
    decode_payment_required,
    decode_payment_required_v1,
    decode_settle_response,
    encode_json_header,
    parse_facilitator_request,
    payload_from_dict,
    reasons,
)


def nest(levels: int, kind: str = "object"):
    """`levels` containers, one inside the other."""
    value = 1
    for _ in range(levels):
        value = {"a": value} if kind == "object" else [value]
    return value


REQ_V1, REQ_V2 = s.REQUIREMENTS_V1, s.REQUIREMENTS_V2
DEEP = "__deep__"
DEPTHS = [MAX_JSON_DEPTH + 1, 300, 1_000, 1_100]  # 1,100: past orjson's own parser limit


def deep(base: dict, levels: int) -> bytes:
    """JSON text of `base` with `levels` nested arrays where it holds DEEP (at an unknown
    field when it holds none). Written by hand: orjson writes at most ~254 levels."""
    if DEEP not in orjson.dumps(base).decode():
        base = {**base, "unknownField": DEEP}
    inner = b"[" * levels + b"1" + b"]" * levels
    return orjson.dumps(base).replace(b'"' + DEEP.encode() + b'"', inner)


def assert_too_deep(exc: pytest.ExceptionInfo) -> None:
    assert exc.value.reason == reasons.INVALID_PAYLOAD
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in exc.value.message


@pytest.mark.parametrize("levels", DEPTHS)
@pytest.mark.parametrize(
    ("wire", "header"), [(s.PAYLOAD_V2, PAYMENT_SIGNATURE), (s.PAYLOAD_V1, X_PAYMENT)]
)
def test_payment_header_with_a_deep_unknown_field_is_an_invalid_payload(wire, header, levels):
    value = base64.b64encode(deep(wire, levels)).decode()
    with pytest.raises(ProtocolError) as exc:
        decode_payment_payload(value, header)
    assert_too_deep(exc)
    assert header in exc.value.message


@pytest.mark.parametrize("levels", DEPTHS)
@pytest.mark.parametrize(
    "body",
    [
        {
            "x402Version": 2,
            "paymentPayload": s.PAYLOAD_V2,
            "paymentRequirements": s.REQUIREMENTS_V2,
        },
        {
            "x402Version": 1,
            "paymentPayload": s.PAYLOAD_V1,
            "paymentRequirements": s.REQUIREMENTS_V1,
        },
    ],
)
def test_facilitator_body_with_a_deep_unknown_field_is_an_invalid_payload(body, levels):
    with pytest.raises(ProtocolError) as exc:
        parse_facilitator_request(deep(body, levels))
    assert_too_deep(exc)


def test_deep_values_inside_known_fields_are_refused_too():
    wire = {**s.PAYLOAD_V2, "payload": {"transaction": "x", "note": nest(200, "array")}}
    with pytest.raises(ProtocolError) as exc:
        payload_from_dict(wire)
    assert_too_deep(exc)
    accepted = {**s.REQUIREMENTS_V2, "extra": {"feePayer": s.FEE_PAYER, "x": DEEP}}
    challenge = deep({**s.PAYMENT_REQUIRED_V2, "accepts": [accepted]}, 500)
    with pytest.raises(ProtocolError) as exc:
        decode_payment_required(base64.b64encode(challenge))
    assert_too_deep(exc)
    with pytest.raises(ProtocolError) as exc:
        decode_payment_required_v1(deep(s.PAYMENT_REQUIRED_V1, 500))
    assert_too_deep(exc)
    with pytest.raises(ProtocolError) as exc:
        decode_payment_required_v1({**s.PAYMENT_REQUIRED_V1, "x": nest(200)})
    assert_too_deep(exc)
    with pytest.raises(ProtocolError) as exc:
        decode_settle_response(base64.b64encode(deep(s.SETTLE_FAILED, 600)))
    assert_too_deep(exc)


def test_a_message_at_the_limit_is_read_and_written_back_out():
    # The top-level object is level 1, so the unknown field can hold MAX_JSON_DEPTH - 1 levels.
    wire = {**s.PAYLOAD_V2, "unknownField": nest(MAX_JSON_DEPTH - 1)}
    decoded = decode_payment_payload(encode_json_header(wire))
    assert orjson.loads(orjson.dumps(decoded.to_wire())) == wire
    with pytest.raises(ProtocolError):
        payload_from_dict({**s.PAYLOAD_V2, "unknownField": nest(MAX_JSON_DEPTH)})


def test_the_depth_check_is_iterative_and_counts_arrays_and_objects_alike():
    check_json_depth(nest(10), "x", limit=10)
    check_json_depth([nest(9, "array")], "x", limit=10)
    with pytest.raises(ProtocolError):
        check_json_depth({"a": [nest(9)]}, "x", limit=10)
    check_json_depth({"wide": [[1]] * 100_000}, "x", limit=3)
    with pytest.raises(ProtocolError):
        check_json_depth(nest(100_000, "array"), "x")  # no RecursionError
