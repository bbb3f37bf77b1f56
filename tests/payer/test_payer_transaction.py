"""Byte-level checks of the payment transaction the payer builds."""

from __future__ import annotations

import base64
import struct

import pytest
from payer_ledger import InProcessChain
from solders.hash import Hash
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.payer import MintInfo, PaymentBuildError, build_payment
from sandbox.protocol import (
    COMPUTE_BUDGET_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    PAYMENT_SIGNATURE,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    X_PAYMENT,
    PaymentPayload,
    PaymentPayloadV1,
    ResourceInfo,
    associated_token_address,
    decode_payment_payload,
)


def decode(payment) -> VersionedTransaction:
    return VersionedTransaction.from_bytes(base64.b64decode(payment.transaction_base64))


def program(message: MessageV0, index: int) -> Pubkey:
    return message.account_keys[message.instructions[index].program_id_index]


def accounts(message: MessageV0, index: int) -> list[Pubkey]:
    return [message.account_keys[i] for i in message.instructions[index].accounts]


def test_instruction_order_discriminators_and_data(ledger: InProcessChain) -> None:
    payment = build_payment(
        ledger.requirements(12_345), ledger.owner, ledger.mint_info, ledger.blockhash
    )
    message = decode(payment).message
    assert isinstance(message, MessageV0)
    assert [program(message, i) for i in range(4)] == [
        COMPUTE_BUDGET_PROGRAM_ID,
        COMPUTE_BUDGET_PROGRAM_ID,
        TOKEN_PROGRAM_ID,
        MEMO_PROGRAM_ID,
    ]
    data = [bytes(ix.data) for ix in message.instructions]
    assert data[0] == bytes([2]) + struct.pack("<I", 20_000)
    assert data[1] == bytes([3]) + struct.pack("<Q", 1)
    assert data[2] == bytes([12]) + struct.pack("<Q", 12_345) + bytes([6])
    assert len(data[3]) == 32 and bytes.fromhex(data[3].decode())  # 16 random bytes, hex
    assert message.address_table_lookups == []
    assert message.recent_blockhash == ledger.blockhash


def test_transfer_accounts_and_fee_payer(ledger: InProcessChain) -> None:
    payment = build_payment(ledger.requirements(), ledger.owner, ledger.mint_info, ledger.blockhash)
    message = decode(payment).message
    owner = ledger.owner.pubkey()
    assert message.account_keys[0] == ledger.fee_payer.pubkey()
    assert accounts(message, 2) == [
        ledger.ata(owner),
        ledger.mint,
        ledger.ata(ledger.pay_to),
        owner,
    ]
    header = message.header
    assert header.num_required_signatures == 2
    assert header.num_readonly_signed_accounts == 1  # the owner signs but is not writable
    assert message.account_keys[1] == owner
    assert not message.is_maybe_writable(1)
    assert message.is_maybe_writable(0)
    # the fee payer appears in no instruction
    assert all(0 not in bytes(ix.accounts) for ix in message.instructions)
    assert accounts(message, 0) == accounts(message, 1) == accounts(message, 3) == []


def test_only_the_owners_signature_is_present_and_valid(ledger: InProcessChain) -> None:
    payment = build_payment(ledger.requirements(), ledger.owner, ledger.mint_info, ledger.blockhash)
    tx = decode(payment)
    fee_payer_sig, owner_sig = tx.signatures
    assert fee_payer_sig == Signature.default()
    assert bytes(fee_payer_sig) == bytes(64)
    message_bytes = to_bytes_versioned(tx.message)
    assert message_bytes[0] == 0x80  # versioned (v0) message prefix
    assert owner_sig.verify(ledger.owner.pubkey(), message_bytes)
    assert not owner_sig.verify(ledger.fee_payer.pubkey(), message_bytes)
    assert payment.payer == str(ledger.owner.pubkey())


def test_token_2022_mint_uses_its_program_and_atas() -> None:
    ledger = InProcessChain(token_program=TOKEN_2022_PROGRAM_ID, decimals=9)
    payment = build_payment(
        ledger.requirements(7), ledger.owner, ledger.mint_info, ledger.blockhash
    )
    message = decode(payment).message
    assert program(message, 2) == TOKEN_2022_PROGRAM_ID
    destination = associated_token_address(ledger.pay_to, ledger.mint, TOKEN_2022_PROGRAM_ID)
    assert destination != associated_token_address(ledger.pay_to, ledger.mint, TOKEN_PROGRAM_ID)
    assert accounts(message, 2)[2] == destination
    assert bytes(message.instructions[2].data) == bytes([12]) + struct.pack("<Q", 7) + bytes([9])


def test_memo_comes_from_extra_memo(ledger: InProcessChain) -> None:
    payment = build_payment(
        ledger.requirements(memo="order-42"), ledger.owner, ledger.mint_info, ledger.blockhash
    )
    assert bytes(decode(payment).message.instructions[3].data) == b"order-42"
    assert payment.memo == "order-42"


def test_random_memos_make_every_payment_unique(ledger: InProcessChain) -> None:
    payments = [
        build_payment(ledger.requirements(), ledger.owner, ledger.mint_info, ledger.blockhash)
        for _ in range(20)
    ]
    assert len({p.memo for p in payments}) == 20
    assert len({bytes(p.transaction.message) for p in payments}) == 20


def test_blockhash_from_extra_recent_blockhash(ledger: InProcessChain) -> None:
    hinted = Hash.new_unique()
    requirements = ledger.requirements(recentBlockhash=str(hinted))
    payment = build_payment(requirements, ledger.owner, ledger.mint_info)
    assert decode(payment).message.recent_blockhash == hinted
    with pytest.raises(PaymentBuildError, match="no blockhash"):
        build_payment(ledger.requirements(), ledger.owner, ledger.mint_info)


def test_v2_payload_echoes_requirements_and_resource(ledger: InProcessChain) -> None:
    requirements = ledger.requirements()
    resource = ResourceInfo(url="http://127.0.0.1/paid", description="d")
    payment = build_payment(
        requirements, ledger.owner, ledger.mint_info, ledger.blockhash, resource=resource
    )
    assert payment.header_name == PAYMENT_SIGNATURE
    decoded = decode_payment_payload(payment.header_value)
    assert isinstance(decoded, PaymentPayload)
    assert decoded.accepted == requirements
    assert decoded.resource == resource
    assert decoded.transaction == payment.transaction_base64
    body = payment.facilitator_body()
    assert body["x402Version"] == 2
    assert body["paymentRequirements"] == requirements.to_wire()


def test_v1_payload_shape(ledger: InProcessChain) -> None:
    requirements = ledger.requirements_v1(5)
    payment = build_payment(requirements, ledger.owner, ledger.mint_info, ledger.blockhash)
    assert payment.header_name == X_PAYMENT
    decoded = decode_payment_payload(payment.header_value, X_PAYMENT)
    assert isinstance(decoded, PaymentPayloadV1)
    assert (decoded.scheme, decoded.network) == ("exact", "solana-devnet")
    assert set(payment.wire) == {"x402Version", "scheme", "network", "payload"}
    assert bytes(decode(payment).message.instructions[2].data)[1:9] == struct.pack("<Q", 5)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ({"feePayer": None}, "extra.feePayer"),
        ({"feePayer": "not-a-key"}, "extra.feePayer 'not-a-key' is not a base58"),
        ({"memo": "x" * 257}, "257 bytes; at most 256"),
        ({"recentBlockhash": "zzz0"}, "extra.recentBlockhash"),
    ],
)
def test_unbuildable_requirements_are_named(ledger: InProcessChain, extra, match) -> None:
    base = ledger.requirements().to_wire()
    base["extra"] = {k: v for k, v in {**base["extra"], **extra}.items() if v is not None}
    requirements = type(ledger.requirements()).model_validate(base)
    blockhash = None if "recentBlockhash" in extra else ledger.blockhash
    with pytest.raises(PaymentBuildError, match=match):
        build_payment(requirements, ledger.owner, ledger.mint_info, blockhash)


def test_mint_facts_must_match_the_asset(ledger: InProcessChain) -> None:
    other = MintInfo(Pubkey.new_unique(), 6)
    with pytest.raises(PaymentBuildError, match="mint facts are for"):
        build_payment(ledger.requirements(), ledger.owner, other, ledger.blockhash)


def test_amount_beyond_u64_is_refused(ledger: InProcessChain) -> None:
    with pytest.raises(PaymentBuildError, match="u64"):
        build_payment(ledger.requirements(2**64), ledger.owner, ledger.mint_info, ledger.blockhash)
