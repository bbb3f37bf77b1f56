"""Every wire model, both versions: JSON -> model -> JSON unchanged, and strict parsing."""

from __future__ import annotations

import copy

import orjson
import protocol_samples as s
import pytest
from pydantic import ValidationError

from sandbox.protocol import (
    FacilitatorRequest,
    FacilitatorRequestV1,
    PaymentPayload,
    PaymentPayloadV1,
    PaymentRequired,
    PaymentRequiredV1,
    PaymentRequirements,
    PaymentRequirementsV1,
    ResourceInfo,
    SettleResponse,
    SupportedResponse,
    VerifyResponse,
)

CASES = [
    (ResourceInfo, s.RESOURCE),
    (PaymentRequirements, s.REQUIREMENTS_V2),
    (PaymentRequirementsV1, s.REQUIREMENTS_V1),
    (PaymentRequired, s.PAYMENT_REQUIRED_V2),
    (PaymentRequiredV1, s.PAYMENT_REQUIRED_V1),
    (PaymentPayload, s.PAYLOAD_V2),
    (PaymentPayloadV1, s.PAYLOAD_V1),
    (VerifyResponse, s.VERIFY_OK),
    (VerifyResponse, s.VERIFY_BAD),
    (SettleResponse, s.SETTLE_V2),
    (SettleResponse, s.SETTLE_V1),
    (SettleResponse, s.SETTLE_FAILED),
    (SupportedResponse, s.SUPPORTED),
    (FacilitatorRequest, s.FACILITATOR_V2),
    (FacilitatorRequestV1, s.FACILITATOR_V1),
]


@pytest.mark.parametrize(("model", "wire"), CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_round_trip(model, wire) -> None:
    parsed = model.model_validate(wire)
    assert parsed.to_wire() == wire
    assert orjson.loads(parsed.to_json()) == wire
    assert model.model_validate_json(orjson.dumps(wire)) == parsed


def test_v1_supported_response_has_only_kinds() -> None:
    parsed = SupportedResponse.model_validate(s.SUPPORTED_V1)
    assert parsed.kinds[0].x402_version == 1 and parsed.signers == {}


def test_unknown_fields_survive_a_round_trip() -> None:
    wire = {**s.SETTLE_V2, "extensions": {"x": 1}, "futureField": [1, 2]}
    assert SettleResponse.model_validate(wire).to_wire() == wire


def test_snake_case_in_python_camel_case_on_the_wire() -> None:
    requirements = PaymentRequirements.model_validate(s.REQUIREMENTS_V2)
    assert requirements.pay_to == s.PAY_TO and requirements.max_timeout_seconds == 60
    assert requirements.atomic_amount == 1000
    assert requirements.fee_payer == s.FEE_PAYER and requirements.memo == "m-1"
    v1 = PaymentRequirementsV1.model_validate(s.REQUIREMENTS_V1)
    assert v1.amount == v1.max_amount_required == "1000" and v1.memo is None
    payload = PaymentPayload.model_validate(s.PAYLOAD_V2)
    assert (payload.scheme, payload.network, payload.transaction) == (
        "exact",
        s.REQUIREMENTS_V2["network"],
        "AQID",
    )
    built = PaymentRequirements(
        scheme="exact",
        network=s.REQUIREMENTS_V2["network"],
        amount="1000",
        asset=s.REQUIREMENTS_V2["asset"],
        pay_to=s.PAY_TO,
        max_timeout_seconds=60,
        extra=s.REQUIREMENTS_V2["extra"],
    )
    assert built.to_wire() == s.REQUIREMENTS_V2


@pytest.mark.parametrize(
    ("model", "wire", "field", "value"),
    [
        (PaymentRequirements, s.REQUIREMENTS_V2, "amount", 1000),  # a number, not a string
        (PaymentRequirements, s.REQUIREMENTS_V2, "amount", "1.5"),  # not atomic units
        (PaymentRequirements, s.REQUIREMENTS_V2, "amount", "-1"),
        (PaymentRequirements, s.REQUIREMENTS_V2, "maxTimeoutSeconds", "60"),
        (PaymentRequirementsV1, s.REQUIREMENTS_V1, "maxAmountRequired", "1e3"),
        (PaymentPayload, s.PAYLOAD_V2, "x402Version", 1),
        (PaymentPayloadV1, s.PAYLOAD_V1, "x402Version", 2),
        (PaymentPayload, s.PAYLOAD_V2, "payload", "AQID"),
        (VerifyResponse, s.VERIFY_OK, "isValid", "true"),
        (SettleResponse, s.SETTLE_V2, "success", 1),
    ],
)
def test_strict_parsing_refuses_coercion(model, wire, field, value) -> None:
    bad = {**copy.deepcopy(wire), field: value}
    with pytest.raises(ValidationError):
        model.model_validate(bad)


def test_v1_null_text_fields_are_read_as_empty() -> None:
    wire = {**s.REQUIREMENTS_V1, "description": None, "mimeType": None}
    parsed = PaymentRequirementsV1.model_validate(wire)
    assert parsed.description == "" and parsed.mime_type == ""
    challenge = PaymentRequiredV1.model_validate({**s.PAYMENT_REQUIRED_V1, "error": None})
    assert challenge.error == ""


def test_models_are_immutable() -> None:
    requirements = PaymentRequirements.model_validate(s.REQUIREMENTS_V2)
    with pytest.raises(ValidationError):
        requirements.amount = "1"
