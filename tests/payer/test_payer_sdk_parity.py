"""Our payer against what the official x402 SDK (2.25) produced (tests/fixtures/sdk/).

Given the SDK's inputs (its client keypair, requirements, blockhash and memo), our payer must
build the very same transaction, byte for byte, and the same payload object.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from multidict import CIMultiDict
from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from sandbox.payer import MintInfo, PaymentPolicy, build_payment, load_keypair, read_challenge
from sandbox.protocol import (
    COMPUTE_BUDGET_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    PaymentPayload,
    PaymentRequired,
    PaymentRequiredV1,
    decode_payment_payload,
    decode_settle_response,
)

SDK = Path(__file__).resolve().parents[1] / "fixtures" / "sdk"

pytestmark = pytest.mark.skipif(
    not (SDK / "manifest.json").exists(), reason="SDK fixtures not generated"
)


def fixture(name: str):
    return json.loads((SDK / name).read_text())


def transaction_of(payload) -> VersionedTransaction:
    return VersionedTransaction.from_bytes(base64.b64decode(payload.transaction))


def memo_of(transaction: VersionedTransaction) -> bytes:
    return bytes(transaction.message.instructions[3].data)


@pytest.fixture(scope="module")
def client():
    return load_keypair(SDK / "client-keypair.json")


@pytest.fixture(scope="module")
def usdc() -> MintInfo:
    return MintInfo(Pubkey.from_string(fixture("manifest.json")["asset"]), 6, TOKEN_PROGRAM_ID)


@pytest.mark.parametrize("name", ["payment_signature_v2.json", "payment_signature_v2_memo.json"])
def test_v2_payment_is_byte_identical_to_the_sdks(name: str, client, usdc) -> None:
    recorded = fixture(name)
    theirs = decode_payment_payload(recorded["header"])
    assert isinstance(theirs, PaymentPayload)
    their_tx = transaction_of(theirs)
    ours = build_payment(
        theirs.accepted,
        client,
        usdc,
        their_tx.message.recent_blockhash,
        resource=theirs.resource,
        memo=memo_of(their_tx),
    )
    assert bytes(ours.transaction) == bytes(their_tx)
    assert ours.wire == recorded["decoded"]
    if "memo" in name:  # the server's memo is used as is, without being told
        seller_memo = fixture("manifest.json")["sellerMemo"]
        assert memo_of(their_tx) == seller_memo.encode()
        again = build_payment(
            theirs.accepted,
            client,
            usdc,
            their_tx.message.recent_blockhash,
            resource=theirs.resource,
        )
        assert bytes(again.transaction) == bytes(their_tx)


def test_v1_payment_is_byte_identical_to_the_sdks(client, usdc) -> None:
    offer = PaymentRequiredV1.model_validate(fixture("payment_required_v1.json")).accepts[0]
    recorded = fixture("x_payment_v1.json")
    theirs = decode_payment_payload(recorded["header"], "X-PAYMENT")
    their_tx = transaction_of(theirs)
    ours = build_payment(
        offer, client, usdc, their_tx.message.recent_blockhash, memo=memo_of(their_tx)
    )
    assert bytes(ours.transaction) == bytes(their_tx)
    assert ours.wire == recorded["decoded"]


def test_sdk_instruction_layout_matches_ours(client, usdc) -> None:
    """The layout the SDK uses, checked instruction by instruction on its own transaction."""
    theirs = transaction_of(decode_payment_payload(fixture("payment_signature_v2.json")["header"]))
    message = theirs.message
    programs = [message.account_keys[ix.program_id_index] for ix in message.instructions]
    assert programs == [
        COMPUTE_BUDGET_PROGRAM_ID,
        COMPUTE_BUDGET_PROGRAM_ID,
        TOKEN_PROGRAM_ID,
        MEMO_PROGRAM_ID,
    ]
    addresses = fixture("manifest.json")["addresses"]
    assert str(message.account_keys[0]) == addresses["feePayer"]
    assert str(message.account_keys[1]) == addresses["client"] == str(client.pubkey())
    assert bytes(theirs.signatures[0]) == bytes(64)
    assert theirs.signatures[1].verify(client.pubkey(), to_bytes_versioned(message))


def test_recorded_sdk_402_is_read_and_accepted_by_our_client() -> None:
    recorded = fixture("challenge_v2.json")
    headers = CIMultiDict(recorded["headers"])  # recorded lowercase, as HTTP allows
    challenge = read_challenge(headers, json.dumps(recorded["body"]).encode())
    assert isinstance(challenge, PaymentRequired)
    chosen = PaymentPolicy().choose(challenge.accepts)
    assert chosen.amount == "10000" and chosen.fee_payer


def test_recorded_sdk_receipt_decodes() -> None:
    recorded = fixture("paid_response_v2.json")
    receipt = decode_settle_response(CIMultiDict(recorded["headers"])["PAYMENT-RESPONSE"])
    assert receipt.success and receipt.transaction
    assert receipt.payer == fixture("manifest.json")["addresses"]["client"]
