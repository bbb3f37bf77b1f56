"""What the official x402 SDK (2.25) puts on the wire, decoded with sandbox.protocol.

The fixtures in tests/fixtures/sdk/ were produced by the SDK itself (interop/generate_fixtures.py,
in .venv-interop): its middleware's 402s, its client's payment headers, its facilitator's
answers, and the RPC calls each role made. If sandbox.protocol stops reading any of them, or the
SDK's transaction layout assumptions below stop holding, these tests say which field.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol import (
    COMPUTE_BUDGET_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    SOLANA_DEVNET,
    TOKEN_PROGRAM_ID,
    USDC_DEVNET_MINT,
    PaymentPayload,
    PaymentPayloadV1,
    PaymentRequirements,
    SettleResponse,
    SupportedResponse,
    VerifyResponse,
    associated_token_address,
    decode_payment_payload,
    decode_payment_required,
    decode_payment_required_v1,
    decode_settle_response,
    parse_facilitator_request,
)
from sandbox.protocol.models import FacilitatorRequest, FacilitatorRequestV1

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sdk"


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


MANIFEST = load("manifest")
CLIENT = Pubkey.from_string(MANIFEST["addresses"]["client"])
FEE_PAYER = Pubkey.from_string(MANIFEST["addresses"]["feePayer"])
PAY_TO = Pubkey.from_string(MANIFEST["addresses"]["payTo"])
MINT = Pubkey.from_string(USDC_DEVNET_MINT)


def keypair_pubkey(name: str) -> Pubkey:
    from solders.keypair import Keypair

    return Keypair.from_bytes(bytes(load(name))).pubkey()


def test_manifest_matches_the_committed_keypairs() -> None:
    assert MANIFEST["sdk"]["x402"] == "2.25.0"
    assert MANIFEST["network"] == SOLANA_DEVNET
    assert MANIFEST["asset"] == USDC_DEVNET_MINT
    assert keypair_pubkey("client-keypair") == CLIENT
    assert keypair_pubkey("fee-payer-keypair") == FEE_PAYER
    assert keypair_pubkey("pay-to-keypair") == PAY_TO


# ------------------------------------------------------------------ 402 challenges


def offer_of(challenge: dict[str, Any]) -> PaymentRequirements:
    assert challenge["status"] == 402
    assert challenge["headers"]["cache-control"] == "no-store"
    assert challenge["body"] == {}  # the SDK's middleware sends no v1 body
    (offer,) = decode_payment_required(challenge["headers"]["payment-required"]).accepts
    return offer


def test_v2_challenge_field_by_field() -> None:
    challenge = load("challenge_v2")
    required = decode_payment_required(challenge["headers"]["payment-required"])
    assert required.x402_version == 2
    assert required.error == "Payment required"
    assert required.resource is not None
    assert required.resource.url == MANIFEST["baseUrl"] + MANIFEST["route"]
    assert required.resource.mime_type == "application/json"
    offer = offer_of(challenge)
    assert offer.scheme == "exact"
    assert offer.network == SOLANA_DEVNET
    assert offer.asset == USDC_DEVNET_MINT
    assert offer.amount == "10000"  # "$0.01" in 6-decimal USDC
    assert offer.pay_to == str(PAY_TO)  # the wallet, not its token account
    assert offer.max_timeout_seconds == 300  # the SDK's default
    assert offer.extra == {"feePayer": str(FEE_PAYER)}  # learned from /supported
    assert required.to_wire() == load("payment_required_v2")


def test_v2_challenge_with_blockhash_hints() -> None:
    offer = offer_of(load("challenge_v2_hints"))
    assert offer.extra is not None
    assert offer.extra["recentBlockhash"] == MANIFEST["recentBlockhash"]
    # The SDK sends the block height as a string, not a number.
    assert offer.extra["lastValidBlockHeight"] == "1000"


def test_mismatched_accepted_gets_the_middlewares_own_402() -> None:
    challenge = load("challenge_v2_no_match")
    required = decode_payment_required(challenge["headers"]["payment-required"])
    assert required.error == "No matching payment requirements"
    sent = decode_payment_payload(challenge["request"]["paymentSignature"])
    assert isinstance(sent, PaymentPayload)
    assert sent.accepted.amount == "9999"


def test_v1_body_field_by_field() -> None:
    required = decode_payment_required_v1(load("payment_required_v1"))
    (offer,) = required.accepts
    assert (offer.scheme, offer.network, offer.max_amount_required) == (
        "exact",
        "solana-devnet",
        "10000",
    )
    assert offer.resource == MANIFEST["baseUrl"] + MANIFEST["route"]
    assert (offer.pay_to, offer.asset) == (str(PAY_TO), USDC_DEVNET_MINT)
    assert offer.extra == {"feePayer": str(FEE_PAYER)}


# ------------------------------------------------------------------ the client's transaction


def transaction_of(payload: PaymentPayload | PaymentPayloadV1) -> VersionedTransaction:
    assert payload.transaction is not None
    return VersionedTransaction.from_bytes(base64.b64decode(payload.transaction))


def check_sdk_transaction(
    tx: VersionedTransaction, amount: int, memo: bytes | None, blockhash: str | None
) -> None:
    """The SDK client's layout, account by account and byte by byte."""
    message = tx.message
    keys = list(message.account_keys)
    assert message.address_table_lookups == []  # no lookup tables
    assert (
        message.header.num_required_signatures,
        message.header.num_readonly_signed_accounts,
        message.header.num_readonly_unsigned_accounts,
    ) == (2, 1, 4)
    assert keys[0] == FEE_PAYER  # message fee payer = extra.feePayer
    assert keys[1] == CLIENT  # the only other signer: the transfer authority
    if blockhash is not None:
        assert message.recent_blockhash == Hash.from_string(blockhash)

    # Fee payer slot left empty; the client's signature is over 0x80 || message.
    assert tx.signatures[0] == Signature.default()
    assert tx.signatures[1].verify(CLIENT, bytes([0x80]) + bytes(message))

    ixs = message.instructions
    programs = [keys[ix.program_id_index] for ix in ixs]
    compute_budget = COMPUTE_BUDGET_PROGRAM_ID
    assert programs == [compute_budget, compute_budget, TOKEN_PROGRAM_ID, MEMO_PROGRAM_ID]
    limit, price, transfer, memo_ix = ixs
    assert bytes(limit.data) == bytes([2]) + (20_000).to_bytes(4, "little")
    assert bytes(price.data) == bytes([3]) + (1).to_bytes(8, "little")
    assert list(limit.accounts) == [] and list(price.accounts) == []
    assert bytes(transfer.data) == bytes([12]) + amount.to_bytes(8, "little") + bytes([6])
    source = associated_token_address(CLIENT, MINT)
    destination = associated_token_address(PAY_TO, MINT)
    assert [keys[i] for i in transfer.accounts] == [source, MINT, destination, CLIENT]
    assert FEE_PAYER not in [keys[i] for i in transfer.accounts]
    assert list(memo_ix.accounts) == []  # the memo names no signer
    data = bytes(memo_ix.data)
    if memo is None:
        assert len(data) == 32 and all(c in b"0123456789abcdef" for c in data)  # hex nonce
    else:
        assert data == memo


def test_v2_payment_signature_field_by_field() -> None:
    fixture = load("payment_signature_v2")
    payload = decode_payment_payload(fixture["header"])
    assert isinstance(payload, PaymentPayload)
    assert payload.to_wire() == fixture["decoded"]
    # `accepted` echoes the offer exactly, hints included; resource comes along.
    offer = offer_of(load("challenge_v2_hints"))
    assert payload.accepted == offer
    assert payload.resource is not None and payload.resource.url.endswith(MANIFEST["route"])
    assert set(payload.payload) == {"transaction"}
    check_sdk_transaction(transaction_of(payload), 10_000, None, MANIFEST["recentBlockhash"])


def test_v2_payment_signature_with_seller_memo() -> None:
    payload = decode_payment_payload(load("payment_signature_v2_memo")["header"])
    assert isinstance(payload, PaymentPayload)
    assert payload.accepted.extra == {"feePayer": str(FEE_PAYER), "memo": MANIFEST["sellerMemo"]}
    # No hints on this route: the client fetched the blockhash itself.
    check_sdk_transaction(transaction_of(payload), 10_000, MANIFEST["sellerMemo"].encode(), None)


def test_v1_x_payment_field_by_field() -> None:
    fixture = load("x_payment_v1")
    payload = decode_payment_payload(fixture["header"], "X-PAYMENT")
    assert isinstance(payload, PaymentPayloadV1)
    assert (payload.x402_version, payload.scheme, payload.network) == (1, "exact", "solana-devnet")
    assert payload.to_wire() == fixture["decoded"]
    check_sdk_transaction(transaction_of(payload), 10_000, None, MANIFEST["recentBlockhash"])


# ------------------------------------------------------------------ facilitator traffic


@pytest.mark.parametrize("step", ["verify", "settle"])
def test_v2_facilitator_requests_are_what_the_middleware_sends(step: str) -> None:
    request = parse_facilitator_request(json.dumps(load(f"{step}_request_v2")).encode())
    assert isinstance(request, FacilitatorRequest)
    sent = decode_payment_payload(load("payment_signature_v2")["header"])
    assert request.payment_payload == sent
    # The middleware forwards its own offer (hints included), not the client's echo.
    assert request.payment_requirements == offer_of(load("challenge_v2_hints"))


@pytest.mark.parametrize("step", ["verify", "settle"])
def test_v1_facilitator_requests(step: str) -> None:
    request = parse_facilitator_request(json.dumps(load(f"{step}_request_v1")).encode())
    assert isinstance(request, FacilitatorRequestV1)
    assert request.payment_payload == decode_payment_payload(load("x_payment_v1")["header"])
    (offer,) = decode_payment_required_v1(load("payment_required_v1")).accepts
    assert request.payment_requirements == offer


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_verify_response(version: str) -> None:
    data = load(f"verify_response_{version}")
    response = VerifyResponse.model_validate(data)
    assert response.is_valid is True
    assert response.payer == str(CLIENT)  # the transfer authority, not the fee payer
    assert set(data) == {"isValid", "payer"}  # nulls are left out


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_settle_response_signature_is_the_fee_payers(version: str) -> None:
    data = load(f"settle_response_{version}")
    response = SettleResponse.model_validate(data)
    assert response.success is True
    assert response.payer == str(CLIENT)
    assert response.network == (SOLANA_DEVNET if version == "v2" else "solana-devnet")
    assert "amount" not in data and "errorReason" not in data
    # `transaction` is the base58 signature in slot 0: the fee payer's, over the same message.
    fixture = "payment_signature_v2" if version == "v2" else "x_payment_v1"
    payload = decode_payment_payload(load(fixture)["header"])
    message = transaction_of(payload).message
    signature = Signature.from_string(response.transaction)
    assert signature.verify(FEE_PAYER, bytes([0x80]) + bytes(message))


def test_payment_response_header_on_the_paid_200() -> None:
    paid = load("paid_response_v2")
    assert paid["status"] == 200
    assert paid["headers"]["cache-control"] == "private"
    receipt = decode_settle_response(paid["headers"]["payment-response"])
    assert receipt.to_wire() == load("settle_response_v2")
    assert receipt == decode_settle_response(load("payment_response_v2")["header"])


def test_supported_response() -> None:
    supported = SupportedResponse.model_validate(load("supported"))
    kinds = {(k.x402_version, k.network): k.extra for k in supported.kinds}
    assert kinds == {
        (2, SOLANA_DEVNET): {"feePayer": str(FEE_PAYER)},
        (1, "solana"): {"feePayer": str(FEE_PAYER)},
        (1, "solana-devnet"): {"feePayer": str(FEE_PAYER)},
        (1, "solana-testnet"): {"feePayer": str(FEE_PAYER)},
    }
    assert supported.extensions == []
    assert supported.signers == {"solana:*": [str(FEE_PAYER)]}


# ------------------------------------------------------------------ the SDK's RPC needs


def calls(trace: str) -> list[tuple[str, str, Any]]:
    return [(c["caller"], c["method"], c["params"]) for c in load("rpc_calls")[trace]]


def test_rpc_calls_of_a_v2_round_trip() -> None:
    trace = calls("v2_round_trip")
    assert [(who, method) for who, method, _ in trace] == [
        ("server", "getLatestBlockhash"),  # hint for the 402
        ("client", "getAccountInfo"),  # mint: owner program and decimals (byte 44)
        ("server", "getLatestBlockhash"),  # the middleware rebuilds its offer per request
        ("facilitator", "simulateTransaction"),  # /verify
        ("facilitator", "simulateTransaction"),  # /settle verifies again
        ("facilitator", "sendTransaction"),
        ("facilitator", "getSignatureStatuses"),
    ]
    by_method = {method: params for _, method, params in trace}
    assert by_method["getLatestBlockhash"][0]["commitment"] == "finalized"
    assert by_method["getAccountInfo"][0] == USDC_DEVNET_MINT
    assert by_method["getAccountInfo"][1]["encoding"] == "base64"
    assert by_method["getAccountInfo"][1]["commitment"] == "finalized"
    simulate = by_method["simulateTransaction"][1]
    assert (simulate["sigVerify"], simulate["commitment"], simulate["encoding"]) == (
        True,
        "confirmed",
        "base64",
    )
    assert simulate["replaceRecentBlockhash"] is False
    send = by_method["sendTransaction"][1]
    assert (send["skipPreflight"], send["preflightCommitment"], send["encoding"]) == (
        True,
        "confirmed",
        "base64",
    )
    assert by_method["getSignatureStatuses"][1] == {"searchTransactionHistory": False}
    # What is simulated and sent is the client's transaction with the fee payer's signature.
    sent = VersionedTransaction.from_bytes(base64.b64decode(by_method["sendTransaction"][0]))
    assert str(sent.signatures[0]) == load("settle_response_v2")["transaction"]
    assert by_method["simulateTransaction"][0] == by_method["sendTransaction"][0]


def test_rpc_calls_of_the_v1_client() -> None:
    # No hints in v1: the client always asks for the latest blockhash.
    assert [(w, m) for w, m, _ in calls("v1_client")] == [
        ("client", "getAccountInfo"),
        ("client", "getLatestBlockhash"),
    ]
