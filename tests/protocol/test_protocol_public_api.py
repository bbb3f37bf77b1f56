"""The package surface, and the official SDK's messages read by our models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sandbox.protocol as protocol
from sandbox.protocol import (
    SupportedResponse,
    VerifyResponse,
    decode_payment_payload,
    decode_payment_required,
    decode_settle_response,
    encode_json_header,
    parse_facilitator_request,
)

SDK = Path(__file__).resolve().parents[1] / "fixtures" / "sdk"
needs_sdk = pytest.mark.skipif(not (SDK / "manifest.json").exists(), reason="no SDK fixtures")


def test_every_exported_name_exists() -> None:
    missing = [name for name in protocol.__all__ if not hasattr(protocol, name)]
    assert missing == []
    assert len(set(protocol.__all__)) == len(protocol.__all__)


def load(name: str):
    return json.loads((SDK / name).read_text())


@needs_sdk
@pytest.mark.parametrize(
    ("name", "decode"),
    [
        ("payment_signature_v2.json", decode_payment_payload),
        ("payment_signature_v2_memo.json", decode_payment_payload),
        ("x_payment_v1.json", decode_payment_payload),
        ("payment_response_v2.json", decode_settle_response),
    ],
)
def test_sdk_headers_decode_and_round_trip(name: str, decode) -> None:
    recorded = load(name)
    model = decode(recorded["header"])
    assert model.to_wire() == recorded["decoded"]
    assert decode(encode_json_header(model)) == model


@needs_sdk
def test_sdk_challenge_header_and_bodies() -> None:
    challenge = load("challenge_v2.json")
    headers = {k.lower(): v for k, v in challenge["headers"].items()}
    parsed = decode_payment_required(headers["payment-required"])
    assert parsed.to_wire() == load("payment_required_v2.json")
    for name in ("verify_request_v1.json", "verify_request_v2.json", "settle_request_v2.json"):
        raw = (SDK / name).read_bytes()
        assert parse_facilitator_request(raw).to_wire() == json.loads(raw)
    for name in ("verify_response_v1.json", "verify_response_v2.json"):
        assert VerifyResponse.model_validate(load(name)).to_wire() == load(name)
    assert SupportedResponse.model_validate(load("supported.json")).to_wire() == load(
        "supported.json"
    )
