"""protocol/exact_svm/transaction.py: decoding, identity, memos and the instruction decoders."""

from __future__ import annotations

import base64
import hashlib

import pytest
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey

from sandbox.protocol import ProtocolError, reasons
from sandbox.protocol.exact_svm import client
from sandbox.protocol.exact_svm import transaction as tx_mod
from sandbox.protocol.programs import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    SYSTEM_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    associated_token_address,
)

OWNER = Keypair()
FEE_PAYER = Keypair().pubkey()
MINT = client.MintInfo(Pubkey.new_unique(), 6)


def payment(memo: bytes = b"nonce", extra=()):
    spec = client.TransferSpec(
        owner=OWNER.pubkey(),
        fee_payer=FEE_PAYER,
        pay_to=Pubkey.new_unique(),
        mint=MINT,
        amount=10_000,
        memo=memo,
        blockhash=Hash.new_unique(),
    )
    message = client.compile_message(
        FEE_PAYER, [*client.payment_instructions(spec), *extra], spec.blockhash
    )
    return client.sign_partial(message, [OWNER])


def b64(data) -> str:
    return base64.b64encode(bytes(data)).decode()


def test_decode_accepts_a_payment_and_its_identity_is_the_message_hash() -> None:
    tx = payment()
    decoded = tx_mod.decode_transaction(b64(tx))
    message_bytes = to_bytes_versioned(decoded.message)
    assert tx_mod.payment_identity(message_bytes) == hashlib.sha256(message_bytes).digest()
    read = tx_mod.read_transaction(b64(tx), "PAYMENT-SIGNATURE")
    assert read.key == tx_mod.payment_identity(message_bytes).hex()
    assert read.fee_payer == FEE_PAYER
    assert read.memos == ("nonce",)


@pytest.mark.parametrize(
    ("encoded", "reason"),
    [
        (None, reasons.SVM_PAYLOAD),
        ("", reasons.SVM_PAYLOAD),
        ("!!", reasons.SVM_NOT_DECODABLE),
        ("A" * 6000, reasons.SVM_NOT_DECODABLE),
        (b64(b"\x01\x02"), reasons.SVM_NOT_DECODABLE),
        (b64(bytes(payment()) + b"\x00"), reasons.SVM_NOT_DECODABLE),
    ],
)
def test_decode_refusals_name_their_reason(encoded, reason) -> None:
    with pytest.raises(ProtocolError) as raised:
        tx_mod.decode_transaction(encoded)
    assert raised.value.reason == reason
    assert raised.value.message


def test_the_servers_read_is_lenient_where_the_facilitator_is_strict() -> None:
    padded = b64(bytes(payment()) + b"\x00")  # trailing bytes: the facilitator's to refuse
    assert tx_mod.read_transaction(padded, "X-PAYMENT").memos == ("nonce",)
    with pytest.raises(ProtocolError, match="not valid base64"):
        tx_mod.read_transaction("%%%", "X-PAYMENT")


def test_memo_texts_replace_invalid_utf8() -> None:
    tx = payment(memo=b"\xff ok")
    assert tx_mod.memo_texts(tx.message, tx.message.account_keys) == ("\ufffd ok",)


def test_transfer_authority_is_a_label_never_an_error() -> None:
    assert tx_mod.transfer_authority(b64(payment())) == str(OWNER.pubkey())
    assert tx_mod.transfer_authority("!!") is None
    assert tx_mod.transfer_authority(None) is None
    assert tx_mod.transfer_authority("A" * 2001) is None


def test_instruction_decoders() -> None:
    tx = payment()
    keys = list(tx.message.account_keys)
    ixs = tx.message.instructions
    assert tx_mod.compute_unit_limit(ixs[0], keys) == tx_mod.COMPUTE_UNIT_LIMIT
    assert tx_mod.compute_unit_price(ixs[1], keys) == tx_mod.COMPUTE_UNIT_PRICE_MICROLAMPORTS
    assert tx_mod.compute_unit_limit(ixs[1], keys) is None
    transfer = tx_mod.transfer_checked(ixs[2], keys)
    assert (transfer.amount, transfer.decimals, transfer.authority) == (10_000, 6, OWNER.pubkey())
    assert tx_mod.is_memo(ixs[3], keys) and tx_mod.is_trailing_allowed(ixs[3], keys)
    assert tx_mod.transfer_checked(ixs[3], keys) is None


def _create_ata(data: bytes, accounts: int = 6) -> Instruction:
    owner = OWNER.pubkey()
    metas = [
        AccountMeta(FEE_PAYER, True, True),
        AccountMeta(associated_token_address(owner, MINT.address), False, True),
        AccountMeta(owner, False, False),
        AccountMeta(MINT.address, False, False),
        AccountMeta(SYSTEM_PROGRAM_ID, False, False),
        AccountMeta(TOKEN_PROGRAM_ID, False, False),
    ]
    return Instruction(ASSOCIATED_TOKEN_PROGRAM_ID, data, metas[:accounts])


@pytest.mark.parametrize(("data", "idempotent"), [(b"", False), (b"\x00", False), (b"\x01", True)])
def test_associated_token_create(data: bytes, idempotent: bool) -> None:
    tx = payment(extra=[_create_ata(data)])
    keys = list(tx.message.account_keys)
    created = tx_mod.associated_token_create(tx.message.instructions[4], keys)
    assert created is not None
    assert created.idempotent is idempotent
    assert created.payer == FEE_PAYER
    assert created.owner == OWNER.pubkey()
    assert created.mint == MINT.address
    assert created.account == associated_token_address(OWNER.pubkey(), MINT.address)
    assert created.token_program == TOKEN_PROGRAM_ID
    assert tx_mod.associated_token_create(tx.message.instructions[3], keys) is None


@pytest.mark.parametrize(("data", "accounts"), [(b"\x02", 6), (b"\x01", 5)])
def test_associated_token_create_refuses_other_shapes(data: bytes, accounts: int) -> None:
    tx = payment(extra=[_create_ata(data, accounts)])
    keys = list(tx.message.account_keys)
    assert tx_mod.associated_token_create(tx.message.instructions[4], keys) is None


def test_the_schemes_numbers_are_stated_once() -> None:
    assert client.MAX_MEMO_BYTES is tx_mod.MAX_MEMO_BYTES == 256
    assert client.COMPUTE_UNIT_LIMIT is tx_mod.COMPUTE_UNIT_LIMIT
    assert tx_mod.DEFAULT_MAX_COMPUTE_UNIT_PRICE == 5_000_000
    with pytest.raises(client.BuildError, match="at most 256"):
        client.memo_bytes("m" * 257)
