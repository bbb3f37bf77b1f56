"""The server role's builders produce what the wire models read, field for field."""

from __future__ import annotations

import orjson

from sandbox.protocol import (
    PaymentRequired,
    PaymentRequiredV1,
    PaymentRequirements,
    PaymentRequirementsV1,
    SupportedResponse,
    decode_payment_required,
    decode_payment_required_v1,
    encode_json_header,
)
from sandbox.protocol.exact_svm.server import (
    SCHEME,
    fee_payer_of,
    payment_required_v1,
    payment_required_v2,
    requirements_v1,
    requirements_v2,
)

DEVNET = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
MINT = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"
PAY_TO = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
FEE_PAYER = "2wmVCSfPxGPjrnMMn7rchp4uaeoTqN39mXFC2zhPdri9"
MEMO = "x402.0123456789abcdef.0123456789abcdef0123456789abcdef"


def _v2() -> dict:
    return requirements_v2(
        network=DEVNET,
        amount=10_000,
        asset=MINT,
        pay_to=PAY_TO,
        max_timeout_seconds=60,
        fee_payer=FEE_PAYER,
        memo=MEMO,
    )


def _v1() -> dict:
    return requirements_v1(
        network="solana-devnet",
        amount=10_000,
        resource="http://testserver/a?x=1",
        description="Route A",
        mime_type="application/json",
        pay_to=PAY_TO,
        max_timeout_seconds=60,
        asset=MINT,
        fee_payer=FEE_PAYER,
        memo=MEMO,
    )


def test_requirements_v2_parse_as_the_model() -> None:
    built = _v2()
    parsed = PaymentRequirements.model_validate(built)
    assert parsed.to_wire() == built
    assert (parsed.scheme, parsed.network, parsed.atomic_amount) == (SCHEME, DEVNET, 10_000)
    assert (parsed.asset, parsed.pay_to, parsed.max_timeout_seconds) == (MINT, PAY_TO, 60)
    assert (parsed.fee_payer, parsed.memo) == (FEE_PAYER, MEMO)


def test_requirements_v1_parse_as_the_model() -> None:
    built = _v1()
    parsed = PaymentRequirementsV1.model_validate(built)
    assert parsed.to_wire() == built
    assert (parsed.scheme, parsed.network, parsed.atomic_amount) == (
        SCHEME,
        "solana-devnet",
        10_000,
    )
    assert parsed.resource == "http://testserver/a?x=1"
    assert (parsed.description, parsed.mime_type) == ("Route A", "application/json")
    assert (parsed.fee_payer, parsed.memo) == (FEE_PAYER, MEMO)


def test_payment_required_v2_parses_as_the_model_and_travels_in_its_header() -> None:
    built = payment_required_v2(
        error="Payment required",
        url="http://testserver/a?x=1",
        description="Route A",
        mime_type="application/json",
        accepts=[_v2()],
    )
    parsed = PaymentRequired.model_validate(built)
    assert parsed.to_wire() == built
    assert parsed.x402_version == 2 and parsed.error == "Payment required"
    assert parsed.resource.url == "http://testserver/a?x=1"
    assert parsed.accepts[0].memo == MEMO
    assert decode_payment_required(encode_json_header(built)) == parsed


def test_payment_required_v1_parses_as_the_model_and_keeps_its_message() -> None:
    built = payment_required_v1(
        error="invalid_exact_svm_payload_memo_mismatch", message="why", accepts=[_v1()]
    )
    parsed = PaymentRequiredV1.model_validate(built)
    assert parsed.to_wire() == built
    assert parsed.x402_version == 1 and parsed.error == "invalid_exact_svm_payload_memo_mismatch"
    assert parsed.model_extra == {"message": "why"}
    assert decode_payment_required_v1(orjson.dumps(built)) == parsed


def test_fee_payer_of_reads_the_exact_kind_on_our_network() -> None:
    supported = SupportedResponse.model_validate(
        {
            "kinds": [
                {"x402Version": 2, "scheme": "upto", "network": DEVNET, "extra": {"feePayer": "X"}},
                {"x402Version": 2, "scheme": SCHEME, "network": "solana:other"},
                {"x402Version": 2, "scheme": SCHEME, "network": DEVNET, "extra": {"feePayer": ""}},
                {"x402Version": 1, "scheme": SCHEME, "network": "solana-devnet"},
                {
                    "x402Version": 1,
                    "scheme": SCHEME,
                    "network": "solana-devnet",
                    "extra": {"feePayer": FEE_PAYER},
                },
            ]
        }
    )
    assert fee_payer_of(supported, (DEVNET, "solana-devnet")) == FEE_PAYER
    assert fee_payer_of(supported, (DEVNET,)) is None
    assert fee_payer_of(SupportedResponse(kinds=[]), (DEVNET,)) is None
