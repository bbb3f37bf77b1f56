"""The facilitator's wire answers (protocol/exact_svm/wire.py), each read back by its model."""

from __future__ import annotations

import orjson
import pytest

from sandbox.protocol import SettleResponse, SupportedResponse, VerifyResponse, reasons
from sandbox.protocol.exact_svm import wire
from sandbox.protocol.networks import SOLANA_DEVNET

PAYER = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
FEE_PAYER = "FeePayer1111111111111111111111111111111111"
SIGNATURE = "5" * 88


def read(model, body: dict):
    """Parse the body as it travels (orjson bytes) and check nothing is lost or coerced."""
    parsed = model.model_validate_json(orjson.dumps(body))
    assert parsed.to_wire() == orjson.loads(orjson.dumps(body))
    return parsed


@pytest.mark.parametrize("payer", [PAYER, None])
def test_verify_valid(payer) -> None:
    parsed = read(VerifyResponse, wire.verify_valid(payer))
    assert parsed.is_valid is True
    assert parsed.payer == payer
    assert parsed.invalid_reason is None


@pytest.mark.parametrize("payer", [PAYER, None])
def test_verify_invalid_with_a_reason_member(payer) -> None:
    body = wire.verify_invalid(reasons.SVM_AMOUNT_INSUFFICIENT, "pays 1, asks 2", payer)
    parsed = read(VerifyResponse, body)
    assert parsed.is_valid is False
    assert parsed.invalid_reason == "invalid_exact_svm_payload_amount_insufficient"
    assert parsed.invalid_message == "pays 1, asks 2"
    assert parsed.payer == payer
    assert orjson.loads(orjson.dumps(body))["invalidReason"] == reasons.SVM_AMOUNT_INSUFFICIENT


def test_verify_invalid_with_an_injected_reason() -> None:
    assert read(VerifyResponse, wire.verify_invalid("made_up", "injected fault")).invalid_reason


@pytest.mark.parametrize(("payer", "amount"), [(PAYER, 10_000), (None, "5"), (PAYER, None)])
def test_settle_success(payer, amount) -> None:
    parsed = read(SettleResponse, wire.settle_success(SIGNATURE, SOLANA_DEVNET, payer, amount))
    assert parsed.success is True
    assert parsed.transaction == SIGNATURE
    assert parsed.network == SOLANA_DEVNET
    assert parsed.payer == payer
    assert parsed.amount == (None if amount is None else str(amount))
    assert parsed.error_reason is None


@pytest.mark.parametrize(("transaction", "payer"), [("", None), (SIGNATURE, PAYER)])
def test_settle_failure(transaction, payer) -> None:
    body = wire.settle_failure(
        reasons.SETTLEMENT_PENDING, "not confirmed yet", SOLANA_DEVNET, transaction, payer
    )
    parsed = read(SettleResponse, body)
    assert parsed.success is False
    assert parsed.error_reason == "settlement_pending"
    assert parsed.error_message == "not confirmed yet"
    assert parsed.transaction == transaction
    assert parsed.network == SOLANA_DEVNET
    assert parsed.payer == payer


def test_settle_failure_without_a_network_is_completed_by_its_caller() -> None:
    body = wire.settle_failure(reasons.INVALID_PAYLOAD, "body is not JSON")
    assert "network" not in body
    body["network"] = SOLANA_DEVNET
    assert read(SettleResponse, body).error_reason == reasons.INVALID_PAYLOAD


@pytest.mark.parametrize("v1_network", ["solana-devnet", None])
def test_supported(v1_network) -> None:
    signers = [FEE_PAYER, PAYER]
    parsed = read(SupportedResponse, wire.supported(signers, SOLANA_DEVNET, v1_network))
    versions = [(kind.x402_version, kind.network) for kind in parsed.kinds]
    expected = [(1, v1_network)] if v1_network else []
    assert versions == [*expected, (2, SOLANA_DEVNET)]
    assert all(kind.scheme == "exact" for kind in parsed.kinds)
    assert all(kind.extra == {"feePayer": FEE_PAYER} for kind in parsed.kinds)
    assert parsed.signers == {"solana:*": signers}
    assert parsed.extensions == []
