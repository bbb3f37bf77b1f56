"""Payments made by the official Python SDK client (committed fixtures, tests/fixtures/sdk/) pass
every static check. (Live settlement of SDK-made payments on our chain runs in interop/tests,
which needs .venv-interop; these fixtures' blockhash is not live on a fresh chain.)"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from solders.pubkey import Pubkey

from sandbox.protocol import parse_facilitator_request
from sandbox.protocol.exact_svm.facilitator import CheckedPayment, VerifyPolicy, check_payment
from sandbox.protocol.networks import SOLANA_DEVNET

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sdk"


def manifest() -> dict:
    return json.loads((FIXTURES / "manifest.json").read_text())


@pytest.fixture
def policy() -> VerifyPolicy:
    fee_payer = Pubkey.from_string(manifest()["addresses"]["feePayer"])
    return VerifyPolicy(fee_payers=frozenset([fee_payer]), network=SOLANA_DEVNET)


@pytest.mark.parametrize(
    "name",
    ["verify_request_v1", "verify_request_v2", "settle_request_v1", "settle_request_v2"],
)
def test_sdk_facilitator_requests_pass_every_static_check(name, policy):
    raw = (FIXTURES / f"{name}.json").read_bytes()
    result = check_payment(parse_facilitator_request(raw), policy)
    assert isinstance(result, CheckedPayment), result
    assert str(result.payer) == manifest()["addresses"]["client"]
    assert len(result.memo) == 32  # the SDK's 16-byte hex nonce


def test_sdk_payment_with_seller_memo_passes(policy):
    decoded = json.loads((FIXTURES / "payment_signature_v2_memo.json").read_text())["decoded"]
    request = {
        "x402Version": 2,
        "paymentPayload": decoded,
        "paymentRequirements": decoded["accepted"],
    }
    result = check_payment(parse_facilitator_request(orjson.dumps(request)), policy)
    assert isinstance(result, CheckedPayment), result
    assert result.memo == manifest()["sellerMemo"].encode()
