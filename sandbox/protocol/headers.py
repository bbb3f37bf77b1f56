"""Encoding and decoding of the x402 HTTP headers and facilitator bodies.

Headers carry standard base64 of UTF-8 JSON. Decoding names what was wrong, in that order:
bad base64, bad JSON, nested too deep, not an object, unsupported version, missing field, wrong
type.

Every JSON value read here is at most MAX_JSON_DEPTH levels deep: an x402 message is five or six
levels deep, and past ~250 levels pydantic and orjson refuse to write a message back out (the
server forwards payloads to the facilitator), so a deeper one is `invalid_payload` at the door
rather than an error halfway through a payment.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from sandbox.protocol import reasons
from sandbox.protocol.errors import ProtocolError, describe_validation_error, short_repr
from sandbox.protocol.models import (
    AnyPayload,
    FacilitatorRequest,
    FacilitatorRequestV1,
    PaymentPayload,
    PaymentPayloadV1,
    PaymentRequired,
    PaymentRequiredV1,
    SettleResponse,
    WireModel,
)

PAYMENT_REQUIRED = "PAYMENT-REQUIRED"
PAYMENT_SIGNATURE = "PAYMENT-SIGNATURE"
PAYMENT_RESPONSE = "PAYMENT-RESPONSE"
X_PAYMENT = "X-PAYMENT"
X_PAYMENT_RESPONSE = "X-PAYMENT-RESPONSE"

M = TypeVar("M", bound=WireModel)

# Levels of objects and arrays in one message (the top-level object is level 1).
MAX_JSON_DEPTH = 64


def check_json_depth(data: Any, what: str, limit: int = MAX_JSON_DEPTH) -> None:
    """ProtocolError if `data` nests objects or arrays more than `limit` levels deep.

    Iterative, and it stops at the first container past the limit: a hostile value costs no
    more than the containers above that point.
    """
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            raise ProtocolError(f"{what}: JSON nested deeper than {limit} levels")
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def load_json(raw: bytes | str, what: str, not_json: str) -> Any:
    """orjson.loads, then the depth check; `not_json` is the message for text that is not JSON."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" not in str(exc):
            raise ProtocolError(not_json) from None
        deeper = f"{what}: JSON nested deeper than {MAX_JSON_DEPTH} levels"
        raise ProtocolError(deeper) from None  # past orjson's own limit (1,024 levels)
    check_json_depth(data, what)
    return data


def encode_json_header(data: dict[str, Any] | WireModel) -> str:
    if isinstance(data, WireModel):
        data = data.to_wire()
    return base64.b64encode(orjson.dumps(data)).decode("ascii")


def decode_json_header(value: str | bytes, header: str = "header") -> dict[str, Any]:
    """base64 -> JSON object, with a specific error for each way it can go wrong."""
    if isinstance(value, str):
        try:
            value = value.strip().encode("ascii")
        except UnicodeEncodeError:
            raise ProtocolError(f"{header}: not base64 (non-ASCII characters)") from None
    if not value:
        raise ProtocolError(f"{header}: empty value")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(f"{header}: not valid base64") from None
    data = load_json(raw, header, f"{header}: base64 decodes to something that is not JSON")
    if not isinstance(data, dict):
        raise ProtocolError(f"{header}: JSON must be an object, got {type(data).__name__}")
    return data


def validate_wire(model: type[M], data: Any, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(describe_validation_error(exc, what)) from None


def read_version(
    data: dict[str, Any], what: str, allowed: tuple[int, ...] = (1, 2), default: int | None = None
) -> int:
    """`x402Version` as an int in `allowed`; missing, wrong type and unsupported named apart."""
    version = data.get("x402Version", default)
    if version is None:
        raise ProtocolError(f"{what}: missing field 'x402Version'")
    # bool is an int subclass: `true` must not pass as version 1.
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProtocolError(
            f"{what}: wrong type at 'x402Version': expected an integer, "
            f"got {type(version).__name__} {short_repr(version)}"
        )
    if version not in allowed:
        expected = " or ".join(str(v) for v in allowed)
        raise ProtocolError(
            f"{what}: unsupported x402Version {short_repr(version)} (expected {expected})",
            reason=reasons.INVALID_X402_VERSION,
        )
    return version


def payload_from_dict(data: dict[str, Any], what: str = "payment payload") -> AnyPayload:
    check_json_depth(data, what)
    if read_version(data, what) == 2:
        return validate_wire(PaymentPayload, data, what)
    return validate_wire(PaymentPayloadV1, data, what)


def decode_payment_payload(value: str | bytes, header: str = PAYMENT_SIGNATURE) -> AnyPayload:
    """Decode PAYMENT-SIGNATURE (v2) or X-PAYMENT (v1); the version comes from the JSON."""
    return payload_from_dict(decode_json_header(value, header), header)


def decode_payment_required(value: str | bytes) -> PaymentRequired:
    data = decode_json_header(value, PAYMENT_REQUIRED)
    read_version(data, PAYMENT_REQUIRED, allowed=(2,), default=2)
    return validate_wire(PaymentRequired, data, PAYMENT_REQUIRED)


def decode_payment_required_v1(body: bytes | dict[str, Any]) -> PaymentRequiredV1:
    if isinstance(body, (bytes, str)):
        body = load_json(body, "402 body", "402 body: not JSON")
    else:
        check_json_depth(body, "402 body")
    if not isinstance(body, dict):
        raise ProtocolError(f"402 body: JSON must be an object, got {type(body).__name__}")
    read_version(body, "402 body", allowed=(1,), default=1)
    return validate_wire(PaymentRequiredV1, body, "402 body")


def decode_settle_response(value: str | bytes, header: str = PAYMENT_RESPONSE) -> SettleResponse:
    return validate_wire(SettleResponse, decode_json_header(value, header), header)


def parse_facilitator_request(body: bytes) -> FacilitatorRequest | FacilitatorRequestV1:
    """Parse a /verify or /settle body; the version comes from `x402Version`."""
    data = load_json(body, "request body", "request body is not valid JSON")
    if not isinstance(data, dict):
        raise ProtocolError(f"request body must be a JSON object, got {type(data).__name__}")
    version = data.get("x402Version")
    if version is None:
        # Some clients only put the version inside the payload.
        inner = data.get("paymentPayload")
        version = inner.get("x402Version") if isinstance(inner, dict) else None
        if version is not None:
            data = {**data, "x402Version": version}
    if read_version(data, "request body") == 2:
        return validate_wire(FacilitatorRequest, data, "request body")
    return validate_wire(FacilitatorRequestV1, data, "request body")
