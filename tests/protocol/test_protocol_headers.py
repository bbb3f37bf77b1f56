"""Header encode/decode in both versions, and one ProtocolError per way a header can be wrong."""

from __future__ import annotations

import base64

import orjson
import protocol_samples as s
import pytest

from sandbox.protocol import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    X_PAYMENT_RESPONSE,
    FacilitatorRequest,
    FacilitatorRequestV1,
    PaymentPayload,
    PaymentPayloadV1,
    PaymentRequired,
    ProtocolError,
    SettleResponse,
    decode_json_header,
    decode_payment_payload,
    decode_payment_required,
    decode_payment_required_v1,
    decode_settle_response,
    encode_json_header,
    parse_facilitator_request,
    reasons,
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def header_of(obj) -> str:
    return b64(orjson.dumps(obj))


def test_header_names() -> None:
    assert (PAYMENT_REQUIRED, PAYMENT_SIGNATURE, PAYMENT_RESPONSE) == (
        "PAYMENT-REQUIRED",
        "PAYMENT-SIGNATURE",
        "PAYMENT-RESPONSE",
    )
    assert (X_PAYMENT, X_PAYMENT_RESPONSE) == ("X-PAYMENT", "X-PAYMENT-RESPONSE")


def test_encoding_is_standard_base64_of_camel_case_json() -> None:
    model = PaymentPayload.model_validate(s.PAYLOAD_V2)
    value = encode_json_header(model)
    assert orjson.loads(base64.b64decode(value, validate=True)) == s.PAYLOAD_V2
    assert encode_json_header(s.PAYLOAD_V2) == value  # a dict encodes the same


def test_payment_required_v2_round_trip() -> None:
    model = PaymentRequired.model_validate(s.PAYMENT_REQUIRED_V2)
    assert decode_payment_required(encode_json_header(model)) == model
    assert decode_payment_required(encode_json_header(model).encode()) == model  # bytes too


def test_payment_required_v1_body_round_trip() -> None:
    parsed = decode_payment_required_v1(orjson.dumps(s.PAYMENT_REQUIRED_V1))
    assert parsed.to_wire() == s.PAYMENT_REQUIRED_V1
    assert decode_payment_required_v1(s.PAYMENT_REQUIRED_V1) == parsed


@pytest.mark.parametrize(
    ("wire", "header", "model"),
    [
        (s.PAYLOAD_V2, PAYMENT_SIGNATURE, PaymentPayload),
        (s.PAYLOAD_V1, X_PAYMENT, PaymentPayloadV1),
    ],
)
def test_payment_payload_round_trip(wire, header, model) -> None:
    decoded = decode_payment_payload(header_of(wire), header)
    assert type(decoded) is model
    assert decoded.to_wire() == wire
    assert decode_payment_payload(encode_json_header(decoded), header) == decoded


@pytest.mark.parametrize(
    ("wire", "header"), [(s.SETTLE_V2, PAYMENT_RESPONSE), (s.SETTLE_V1, X_PAYMENT_RESPONSE)]
)
def test_settle_response_round_trip(wire, header) -> None:
    decoded = decode_settle_response(header_of(wire), header)
    assert decoded == SettleResponse.model_validate(wire)
    assert decode_settle_response(encode_json_header(decoded), header).to_wire() == wire


def test_facilitator_bodies_both_versions() -> None:
    assert isinstance(parse_facilitator_request(orjson.dumps(s.FACILITATOR_V2)), FacilitatorRequest)
    assert isinstance(
        parse_facilitator_request(orjson.dumps(s.FACILITATOR_V1)), FacilitatorRequestV1
    )
    # the version may be given only inside the payload
    inner_only = {k: v for k, v in s.FACILITATOR_V2.items() if k != "x402Version"}
    assert isinstance(parse_facilitator_request(orjson.dumps(inner_only)), FacilitatorRequest)


# ---------------------------------------------------------------- malformed headers

MISSING_ACCEPTED = {k: v for k, v in s.PAYLOAD_V2.items() if k != "accepted"}
WRONG_TYPE = {**s.PAYLOAD_V2, "accepted": {**s.REQUIREMENTS_V2, "maxTimeoutSeconds": "60"}}


@pytest.mark.parametrize(
    ("value", "message", "reason"),
    [
        ("%%%not base64%%%", "not valid base64", reasons.INVALID_PAYLOAD),
        ("QUJD=extra", "not valid base64", reasons.INVALID_PAYLOAD),
        ("héllo", "non-ASCII", reasons.INVALID_PAYLOAD),
        ("", "empty value", reasons.INVALID_PAYLOAD),
        (b64(b"{not json"), "not JSON", reasons.INVALID_PAYLOAD),
        (b64(b"\xff\xfe"), "not JSON", reasons.INVALID_PAYLOAD),
        (b64(b"[1, 2]"), "JSON must be an object, got list", reasons.INVALID_PAYLOAD),
        (header_of(MISSING_ACCEPTED), "missing field 'accepted'", reasons.INVALID_PAYLOAD),
        (
            header_of(WRONG_TYPE),
            "wrong type at 'accepted.maxTimeoutSeconds'",
            reasons.INVALID_PAYLOAD,
        ),
        (
            header_of({**s.PAYLOAD_V2, "payload": "x"}),
            "wrong type at 'payload'",
            reasons.INVALID_PAYLOAD,
        ),
        (header_of({"scheme": "exact"}), "missing field 'x402Version'", reasons.INVALID_PAYLOAD),
        (
            header_of({**s.PAYLOAD_V2, "x402Version": "2"}),
            "wrong type at 'x402Version'",
            reasons.INVALID_PAYLOAD,
        ),
        (
            header_of({**s.PAYLOAD_V1, "x402Version": True}),
            "wrong type at 'x402Version'",
            reasons.INVALID_PAYLOAD,
        ),
        (
            header_of({**s.PAYLOAD_V2, "x402Version": 3}),
            "unsupported x402Version 3",
            reasons.INVALID_X402_VERSION,
        ),
    ],
)
def test_malformed_payment_header_names_what_is_wrong(value, message, reason) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_payment_payload(value, PAYMENT_SIGNATURE)
    assert message in info.value.message
    assert info.value.message.startswith("PAYMENT-SIGNATURE:")  # which header
    assert info.value.reason == reason
    assert str(info.value) == info.value.message
    assert isinstance(info.value, ValueError)


def test_malformed_payment_required() -> None:
    with pytest.raises(ProtocolError, match="PAYMENT-REQUIRED: not valid base64"):
        decode_payment_required("***")
    with pytest.raises(ProtocolError, match="unsupported x402Version 1") as info:
        decode_payment_required(header_of(s.PAYMENT_REQUIRED_V1))
    assert info.value.reason == reasons.INVALID_X402_VERSION
    no_accepts = {k: v for k, v in s.PAYMENT_REQUIRED_V2.items() if k != "accepts"}
    with pytest.raises(ProtocolError, match="missing field 'accepts'"):
        decode_payment_required(header_of(no_accepts))
    bad_amount = {**s.PAYMENT_REQUIRED_V2, "accepts": [{**s.REQUIREMENTS_V2, "amount": 5}]}
    with pytest.raises(ProtocolError, match=r"wrong type at 'accepts\.0\.amount'"):
        decode_payment_required(header_of(bad_amount))


def test_malformed_v1_body() -> None:
    with pytest.raises(ProtocolError, match="402 body: not JSON"):
        decode_payment_required_v1(b"<html>")
    with pytest.raises(ProtocolError, match="must be an object"):
        decode_payment_required_v1(b"[]")
    with pytest.raises(ProtocolError, match="unsupported x402Version 2"):
        decode_payment_required_v1({**s.PAYMENT_REQUIRED_V1, "x402Version": 2})
    missing = {**s.PAYMENT_REQUIRED_V1, "accepts": [{**s.REQUIREMENTS_V1}]}
    del missing["accepts"][0]["payTo"]
    with pytest.raises(ProtocolError, match=r"missing field 'accepts\.0\.payTo'"):
        decode_payment_required_v1(missing)


def test_malformed_receipt_and_facilitator_body() -> None:
    with pytest.raises(ProtocolError, match="X-PAYMENT-RESPONSE: missing field 'network'"):
        decode_settle_response(header_of({"success": True}), X_PAYMENT_RESPONSE)
    with pytest.raises(ProtocolError, match="request body is not valid JSON"):
        parse_facilitator_request(b"{")
    with pytest.raises(ProtocolError, match="missing field 'x402Version'"):
        parse_facilitator_request(b"{}")
    with pytest.raises(ProtocolError, match="unsupported x402Version 7"):
        parse_facilitator_request(orjson.dumps({**s.FACILITATOR_V2, "x402Version": 7}))


def test_decode_json_header_strips_whitespace() -> None:
    assert decode_json_header("  " + header_of({"a": 1}) + "\n") == {"a": 1}


def test_more_than_three_problems_are_counted() -> None:
    with pytest.raises(ProtocolError, match=r"\(and \d+ more\)"):
        decode_payment_payload(header_of({"x402Version": 2, "accepted": {}, "payload": {}}))
