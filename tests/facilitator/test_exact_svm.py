"""Every static exact-SVM rule, one hand-built transaction each (no chain needed)."""

from __future__ import annotations

import base64
import copy

import orjson
import pytest
from facilitator_builders import (
    Parties,
    b64,
    body,
    compute_limit,
    compute_price,
    instructions,
    memo,
    requirements,
    sign,
    sign_with_null,
    transfer,
)
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageAddressTableLookup, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams
from solders.system_program import transfer as sol_transfer
from solders.transaction import VersionedTransaction

from sandbox.protocol import parse_facilitator_request, reasons
from sandbox.protocol.exact_svm.facilitator import (
    CheckedPayment,
    Rejection,
    VerifyPolicy,
    check_payment,
)
from sandbox.protocol.networks import SOLANA_DEVNET, SOLANA_MAINNET
from sandbox.protocol.programs import (
    LIGHTHOUSE_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    associated_token_address,
)

AMOUNT = 10_000


@pytest.fixture
def p() -> Parties:
    return Parties()


def policy_for(p: Parties, **kw) -> VerifyPolicy:
    return VerifyPolicy(fee_payers=frozenset([p.fee_payer.pubkey()]), network=SOLANA_DEVNET, **kw)


def check(p: Parties, request_body: dict, **kw):
    request = parse_facilitator_request(orjson.dumps(request_body))
    return check_payment(request, policy_for(p, **kw))


def rejected(result, reason: str) -> Rejection:
    assert isinstance(result, Rejection), f"expected {reason}, got a valid payment"
    assert result.reason == reason, result
    assert result.message
    return result


def pay(p: Parties, ixs, req: dict | None = None, **kw) -> dict:
    return body(sign(p, ixs, **kw), req or requirements(p, AMOUNT))


def test_valid_payment_passes_with_its_identity(p):
    result = check(p, pay(p, instructions(p, AMOUNT, memo_text="nonce-1")))
    assert isinstance(result, CheckedPayment)
    assert result.payer == p.client.pubkey()
    assert result.fee_payer == p.fee_payer.pubkey()
    assert result.amount == AMOUNT
    assert result.memo == b"nonce-1"
    assert len(result.message_hash) == 32
    assert result.nonce_key is not None


def test_valid_v1_payment_passes(p):
    tx = sign(p, instructions(p, AMOUNT))
    assert isinstance(check(p, body(tx, requirements(p, AMOUNT), version=1)), CheckedPayment)


def test_transaction_signed_by_solders_null_signer_passes(p):
    tx = sign_with_null(p, instructions(p, AMOUNT), Hash.new_unique())
    assert isinstance(check(p, body(tx, requirements(p, AMOUNT))), CheckedPayment)


def test_token_2022_transfer_to_its_own_ata_passes(p):
    p.program = TOKEN_2022_PROGRAM_ID
    assert isinstance(check(p, pay(p, instructions(p, AMOUNT))), CheckedPayment)


# ---------------------------------------------------------------- envelope


def test_unsupported_scheme(p):
    req = {**requirements(p, AMOUNT), "scheme": "upto"}
    rejected(check(p, pay(p, instructions(p, AMOUNT), req)), reasons.UNSUPPORTED_SCHEME)


def test_network_of_another_cluster(p):
    req = {**requirements(p, AMOUNT), "network": SOLANA_MAINNET}
    rejected(check(p, pay(p, instructions(p, AMOUNT), req)), reasons.NETWORK_MISMATCH)


def test_v1_payload_network_differs_from_requirements(p):
    b = body(sign(p, instructions(p, AMOUNT)), requirements(p, AMOUNT), version=1)
    b["paymentPayload"]["network"] = "solana"
    rejected(check(p, b), reasons.NETWORK_MISMATCH)


def test_accepted_differs_from_requirements(p):
    b = pay(p, instructions(p, AMOUNT))
    b["paymentPayload"]["accepted"] = {**b["paymentRequirements"], "amount": "1"}
    result = rejected(check(p, b), reasons.INVALID_PAYMENT_REQUIREMENTS)
    assert "amount" in result.message


def test_blockhash_hints_may_differ_between_accepted_and_requirements(p):
    b = pay(p, instructions(p, AMOUNT))
    b["paymentPayload"]["accepted"] = copy.deepcopy(b["paymentRequirements"])
    b["paymentPayload"]["accepted"]["extra"]["recentBlockhash"] = str(Hash.new_unique())
    b["paymentRequirements"]["extra"]["recentBlockhash"] = str(Hash.new_unique())
    b["paymentRequirements"]["extra"]["lastValidBlockHeight"] = "1000"
    assert isinstance(check(p, b), CheckedPayment)
    b["paymentRequirements"]["extra"]["memo"] = "x"  # a term, not a hint
    rejected(check(p, b), reasons.INVALID_PAYMENT_REQUIREMENTS)


def test_bad_asset_address(p):
    req = {**requirements(p, AMOUNT), "asset": "not-a-key"}
    rejected(check(p, pay(p, instructions(p, AMOUNT), req)), reasons.INVALID_PAYMENT_REQUIREMENTS)


def test_fee_payer_missing(p):
    req = requirements(p, AMOUNT)
    del req["extra"]["feePayer"]
    rejected(check(p, pay(p, instructions(p, AMOUNT), req)), reasons.SVM_MISSING_FEE_PAYER)


def test_fee_payer_not_managed(p):
    req = requirements(p, AMOUNT)
    req["extra"]["feePayer"] = str(Keypair().pubkey())
    rejected(check(p, pay(p, instructions(p, AMOUNT), req)), reasons.FEE_PAYER_NOT_MANAGED)


def test_message_fee_payer_is_not_the_named_one(p):
    other = Keypair()
    tx = sign(p, instructions(p, AMOUNT), payer_key=other.pubkey())
    rejected(check(p, body(tx, requirements(p, AMOUNT))), reasons.FEE_PAYER_NOT_MANAGED)


def test_second_managed_fee_payer_is_accepted(p):
    second = Keypair()
    req = requirements(p, AMOUNT)
    req["extra"]["feePayer"] = str(second.pubkey())
    tx = sign(p, instructions(p, AMOUNT), payer_key=second.pubkey())
    request = parse_facilitator_request(orjson.dumps(body(tx, req)))
    policy = VerifyPolicy(
        fee_payers=frozenset([p.fee_payer.pubkey(), second.pubkey()]), network=SOLANA_DEVNET
    )
    assert isinstance(check_payment(request, policy), CheckedPayment)


# ---------------------------------------------------------------- decoding


def test_transaction_missing(p):
    b = pay(p, instructions(p, AMOUNT))
    b["paymentPayload"]["payload"] = {}
    rejected(check(p, b), reasons.SVM_PAYLOAD)


@pytest.mark.parametrize(
    "garbage",
    ["!!!not base64", base64.b64encode(b"\x01\x02\x03").decode(), "QUJD", "A" * 6000],
)
def test_transaction_not_decodable(p, garbage):
    b = pay(p, instructions(p, AMOUNT))
    b["paymentPayload"]["payload"]["transaction"] = garbage
    rejected(check(p, b), reasons.SVM_NOT_DECODABLE)


def test_trailing_bytes_rejected(p):
    tx = sign(p, instructions(p, AMOUNT))
    b = body(base64.b64encode(bytes(tx) + b"\x00").decode(), requirements(p, AMOUNT))
    rejected(check(p, b), reasons.SVM_NOT_DECODABLE)


def test_address_lookup_tables_rejected(p):
    tx = sign(p, instructions(p, AMOUNT))
    m = tx.message
    lookup = MessageAddressTableLookup(Pubkey.new_unique(), bytes([0]), bytes([]))
    m2 = MessageV0(m.header, m.account_keys, m.recent_blockhash, m.instructions, [lookup])
    tx2 = VersionedTransaction.populate(m2, list(tx.signatures))
    rejected(check(p, body(tx2, requirements(p, AMOUNT))), reasons.SVM_ADDRESS_LOOKUP_TABLES)


# ---------------------------------------------------------------- instructions


@pytest.mark.parametrize("count", [2, 8])
def test_instruction_count(p, count):
    ixs = instructions(p, AMOUNT)[:3] + [memo() for _ in range(5)]
    ixs = ixs[:count]
    rejected(check(p, pay(p, ixs)), reasons.SVM_INSTRUCTIONS_LENGTH)


def test_compute_limit_must_come_first(p):
    ixs = [compute_price(), compute_limit(), transfer(p, AMOUNT), memo()]
    rejected(check(p, pay(p, ixs)), reasons.SVM_COMPUTE_LIMIT_INSTRUCTION)


def test_compute_limit_cap(p):
    ixs = [compute_limit(1_400_000), compute_price(), transfer(p, AMOUNT), memo()]
    rejected(check(p, pay(p, ixs)), reasons.SVM_COMPUTE_LIMIT_TOO_HIGH)
    assert isinstance(check(p, pay(p, ixs), max_compute_unit_limit=1_400_000), CheckedPayment)


def test_compute_price_must_come_second(p):
    ixs = [compute_limit(), memo(), transfer(p, AMOUNT), memo()]
    rejected(check(p, pay(p, ixs)), reasons.SVM_COMPUTE_PRICE_INSTRUCTION)


def test_compute_price_cap(p):
    ixs = [compute_limit(), compute_price(5_000_001), transfer(p, AMOUNT), memo()]
    rejected(check(p, pay(p, ixs)), reasons.SVM_COMPUTE_PRICE_TOO_HIGH)
    ixs[1] = compute_price(5_000_000)
    assert isinstance(check(p, pay(p, ixs)), CheckedPayment)


def test_third_instruction_must_be_transfer_checked(p):
    ixs = [compute_limit(), compute_price(), memo(), memo()]
    rejected(check(p, pay(p, ixs)), reasons.SVM_NO_TRANSFER_INSTRUCTION)


def test_plain_transfer_is_not_transfer_checked(p):
    ix = transfer(p, AMOUNT)
    plain = Instruction(ix.program_id, bytes([3]) + ix.data[1:9], ix.accounts)
    ixs = [compute_limit(), compute_price(), plain, memo()]
    rejected(check(p, pay(p, ixs)), reasons.SVM_NO_TRANSFER_INSTRUCTION)


def test_transfer_of_another_program(p):
    ix = transfer(p, AMOUNT)
    fake = Instruction(Pubkey.new_unique(), ix.data, ix.accounts)
    ixs = [compute_limit(), compute_price(), fake, memo()]
    rejected(check(p, pay(p, ixs)), reasons.SVM_NO_TRANSFER_INSTRUCTION)


def test_second_transfer_is_an_unknown_fourth_instruction(p):
    ixs = [*instructions(p, AMOUNT)[:3], transfer(p, AMOUNT)]
    rejected(check(p, pay(p, ixs)), reasons.SVM_UNKNOWN_FOURTH_INSTRUCTION)


def test_extra_sol_transfer_is_an_unknown_fifth_instruction(p):
    drain = sol_transfer(
        TransferParams(from_pubkey=p.client.pubkey(), to_pubkey=Pubkey.new_unique(), lamports=1)
    )
    ixs = [*instructions(p, AMOUNT), drain]
    rejected(check(p, pay(p, ixs)), reasons.SVM_UNKNOWN_FIFTH_INSTRUCTION)


def test_lighthouse_and_memo_may_follow(p):
    lighthouse = Instruction(LIGHTHOUSE_PROGRAM_ID, b"\x00", [])
    ixs = [*instructions(p, AMOUNT), lighthouse, lighthouse]
    assert isinstance(check(p, pay(p, ixs)), CheckedPayment)


# ---------------------------------------------------------------- fee payer isolation


def test_fee_payer_as_transfer_authority(p):
    ixs = instructions(p, AMOUNT)
    ixs[2] = transfer(p, AMOUNT, authority=p.fee_payer.pubkey())
    b = pay(p, ixs, signers=[p.client, p.fee_payer])
    rejected(check(p, b), reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS)


def test_fee_payer_token_account_as_source(p):
    source = associated_token_address(p.fee_payer.pubkey(), p.mint)
    ixs = instructions(p, AMOUNT)
    ixs[2] = transfer(p, AMOUNT, source=source)
    rejected(check(p, pay(p, ixs)), reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS)


def test_fee_payer_inside_a_memo(p):
    ixs = instructions(p, AMOUNT)
    ixs[3] = Instruction(ixs[3].program_id, b"hi", [AccountMeta(p.fee_payer.pubkey(), True, True)])
    rejected(check(p, pay(p, ixs)), reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS)


def test_fee_payer_inside_lighthouse(p):
    lighthouse = Instruction(
        LIGHTHOUSE_PROGRAM_ID, b"\x00", [AccountMeta(p.fee_payer.pubkey(), False, True)]
    )
    ixs = [*instructions(p, AMOUNT), lighthouse]
    rejected(check(p, pay(p, ixs)), reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS)


def test_fee_payer_inside_compute_budget(p):
    ix = compute_limit()
    ixs = instructions(p, AMOUNT)
    ixs[0] = Instruction(ix.program_id, ix.data, [AccountMeta(p.fee_payer.pubkey(), False, True)])
    rejected(check(p, pay(p, ixs)), reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS)


# ---------------------------------------------------------------- signers


def test_extra_signer(p):
    stranger = Keypair()
    ixs = instructions(p, AMOUNT)
    ixs[3] = Instruction(ixs[3].program_id, b"hi", [AccountMeta(stranger.pubkey(), True, False)])
    b = pay(p, ixs, signers=[p.client, stranger])
    rejected(check(p, b), reasons.SVM_EXCESSIVE_SIGNERS)


def test_client_signature_invalid(p):
    tx = sign(p, instructions(p, AMOUNT))
    signatures = [Signature.default(), Signature.new_unique()]
    forged = VersionedTransaction.populate(tx.message, signatures)
    rejected(check(p, body(forged, requirements(p, AMOUNT))), reasons.SVM_SIGNATURE_INVALID)


def test_client_signature_missing(p):
    tx = sign(p, instructions(p, AMOUNT), signers=[])
    rejected(check(p, body(tx, requirements(p, AMOUNT))), reasons.SVM_SIGNATURE_INVALID)


def test_signature_over_another_message(p):
    tx = sign(p, instructions(p, AMOUNT))
    other = sign(p, instructions(p, AMOUNT))
    swapped = VersionedTransaction.populate(tx.message, list(other.signatures))
    rejected(check(p, body(swapped, requirements(p, AMOUNT))), reasons.SVM_SIGNATURE_INVALID)


# ---------------------------------------------------------------- what is paid


def test_mint_mismatch(p):
    other_mint = Pubkey.new_unique()
    ixs = instructions(p, AMOUNT)
    ixs[2] = transfer(p, AMOUNT, mint=other_mint)
    rejected(check(p, pay(p, ixs)), reasons.SVM_MINT_MISMATCH)


def test_recipient_mismatch(p):
    ixs = instructions(p, AMOUNT)
    ixs[2] = transfer(p, AMOUNT, destination=associated_token_address(Pubkey.new_unique(), p.mint))
    rejected(check(p, pay(p, ixs)), reasons.SVM_RECIPIENT_MISMATCH)


def test_recipient_is_the_wallet_not_its_token_account(p):
    ixs = instructions(p, AMOUNT)
    ixs[2] = transfer(p, AMOUNT, destination=p.pay_to)
    rejected(check(p, pay(p, ixs)), reasons.SVM_RECIPIENT_MISMATCH)


def test_recipient_ata_of_the_wrong_token_program(p):
    ixs = instructions(p, AMOUNT)
    wrong = associated_token_address(p.pay_to, p.mint, TOKEN_2022_PROGRAM_ID)
    ixs[2] = transfer(p, AMOUNT, destination=wrong)
    rejected(check(p, pay(p, ixs)), reasons.SVM_RECIPIENT_MISMATCH)


def test_amount_too_low(p):
    b = pay(p, instructions(p, AMOUNT - 1))
    rejected(check(p, b), reasons.SVM_AMOUNT_INSUFFICIENT)
    rejected(check(p, b, amount_policy="at-least"), reasons.SVM_AMOUNT_INSUFFICIENT)


def test_overpayment_depends_on_policy(p):
    b = pay(p, instructions(p, AMOUNT + 1))
    rejected(check(p, b), reasons.SVM_AMOUNT_MISMATCH)
    assert isinstance(check(p, b, amount_policy="at-least"), CheckedPayment)


# ---------------------------------------------------------------- memos


def test_memo_must_match_extra_memo(p):
    req = requirements(p, AMOUNT, memo="order-42")
    assert isinstance(check(p, pay(p, instructions(p, AMOUNT, "order-42"), req)), CheckedPayment)
    rejected(check(p, pay(p, instructions(p, AMOUNT, "order-43"), req)), reasons.SVM_MEMO_MISMATCH)


def test_extra_memo_needs_exactly_one_memo(p):
    req = requirements(p, AMOUNT, memo="order-42")
    no_memo = instructions(p, AMOUNT)[:3]
    rejected(check(p, pay(p, no_memo, req)), reasons.SVM_MEMO_COUNT)
    two = [*instructions(p, AMOUNT, "order-42"), memo("order-42")]
    rejected(check(p, pay(p, two, req)), reasons.SVM_MEMO_COUNT)


def test_at_most_one_memo_without_extra_memo(p):
    two = [*instructions(p, AMOUNT), memo()]
    rejected(check(p, pay(p, two)), reasons.SVM_MEMO_COUNT)
    assert isinstance(check(p, pay(p, instructions(p, AMOUNT)[:3])), CheckedPayment)


def test_an_empty_extra_memo_is_unset(p):
    req = requirements(p, AMOUNT, memo="")
    assert isinstance(check(p, pay(p, instructions(p, AMOUNT)[:3], req)), CheckedPayment)
    result = check(p, pay(p, instructions(p, AMOUNT, "client-nonce"), req))
    assert isinstance(result, CheckedPayment) and result.memo == b"client-nonce"
    two = [*instructions(p, AMOUNT), memo()]
    rejected(check(p, pay(p, two, req)), reasons.SVM_MEMO_COUNT)


def test_nonce_key_is_scoped_to_the_payer(p):
    a = check(p, pay(p, instructions(p, AMOUNT, "same")))
    other = Parties(fee_payer=p.fee_payer, pay_to=p.pay_to)
    b = check(p, body(sign(other, instructions(other, AMOUNT, "same")), requirements(p, AMOUNT)))
    c = check(p, pay(p, [*instructions(p, AMOUNT, "same")[:3], memo("same")]))
    assert a.nonce_key != b.nonce_key
    assert a.nonce_key == c.nonce_key
    assert a.message_hash != c.message_hash


def test_b64_helper_round_trips(p):
    tx = sign(p, instructions(p, AMOUNT))
    assert VersionedTransaction.from_bytes(base64.b64decode(b64(tx))) == tx
