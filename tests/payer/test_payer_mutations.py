"""Every mutation produces exactly the defect it names, and nothing else (byte level)."""

from __future__ import annotations

import base64
import struct

import pytest
from payer_ledger import InProcessChain
from solders.hash import Hash
from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.payer import MintInfo, Payment, PaymentBuildError, build_payment
from sandbox.payer import mutations as m
from sandbox.protocol import (
    COMPUTE_BUDGET_PROGRAM_ID,
    LIGHTHOUSE_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    PAYMENT_SIGNATURE,
    SOLANA_MAINNET,
    SYSTEM_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    X_PAYMENT,
    PaymentPayload,
    PaymentPayloadV1,
    ProtocolError,
    associated_token_address,
    decode_payment_payload,
)


def tx(payment: Payment) -> VersionedTransaction:
    return VersionedTransaction.from_bytes(base64.b64decode(payment.transaction_base64))


def programs(payment: Payment) -> list[Pubkey]:
    message = tx(payment).message
    return [message.account_keys[ix.program_id_index] for ix in message.instructions]


def data(payment: Payment, index: int) -> bytes:
    return bytes(tx(payment).message.instructions[index].data)


def accounts(payment: Payment, index: int) -> list[Pubkey]:
    message = tx(payment).message
    return [message.account_keys[i] for i in message.instructions[index].accounts]


def owner_signature_valid(payment: Payment, owner: Pubkey) -> bool:
    transaction = tx(payment)
    keys = list(transaction.message.account_keys)
    if owner not in keys[: transaction.message.header.num_required_signatures]:
        return False
    signature = transaction.signatures[keys.index(owner)]
    return signature.verify(owner, to_bytes_versioned(transaction.message))


CANONICAL = [
    COMPUTE_BUDGET_PROGRAM_ID,
    COMPUTE_BUDGET_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    MEMO_PROGRAM_ID,
]


@pytest.fixture
def args(ledger: InProcessChain):
    return (ledger.requirements(10_000), ledger.owner, ledger.mint_info, ledger.blockhash)


def test_registry_names_every_mutation() -> None:
    assert set(m.MUTATIONS) == {
        "wrong_amount",
        "wrong_mint",
        "wrong_recipient",
        "missing_instruction",
        "extra_instruction",
        "fee_payer_as_authority",
        "fee_payer_in_instruction",
        "compute_price_too_high",
        "compute_limit_too_high",
        "stale_blockhash",
        "bad_signature",
        "reused_memo",
        "wrong_network",
        "accepted_mismatch",
        "version_mixup",
        "create_ata_pin",
        "lighthouse_instruction",
        "flight_instructions",
    }


def test_wrong_amount(ledger: InProcessChain, args) -> None:
    payment = m.wrong_amount(*args)
    assert data(payment, 2) == bytes([12]) + struct.pack("<Q", 9_999) + bytes([6])
    assert m.wrong_amount(*args, amount=20_000).description == (
        "transfers 20000 atomic units instead of 10000"
    )
    assert data(m.wrong_amount(*args, amount=20_000), 2)[1:9] == struct.pack("<Q", 20_000)
    assert payment.wire["accepted"] == args[0].to_wire()  # the terms echoed unchanged
    assert owner_signature_valid(payment, ledger.owner.pubkey())


def test_wrong_mint(ledger: InProcessChain, args) -> None:
    other = MintInfo(Pubkey.new_unique(), 6)
    payment = m.wrong_mint(*args, other_mint=other)
    owner = ledger.owner.pubkey()
    assert accounts(payment, 2) == [
        associated_token_address(owner, other.address),
        other.address,
        associated_token_address(ledger.pay_to, other.address),
        owner,
    ]
    assert data(payment, 2)[1:9] == struct.pack("<Q", 10_000)
    assert accounts(m.wrong_mint(*args), 2)[1] not in (ledger.mint, other.address)


def test_wrong_recipient(ledger: InProcessChain, args) -> None:
    thief = Pubkey.new_unique()
    payment = m.wrong_recipient(*args, recipient=thief)
    assert accounts(payment, 2)[2] == associated_token_address(thief, ledger.mint)
    assert accounts(payment, 2)[2] != ledger.ata(ledger.pay_to)
    assert accounts(payment, 2)[1] == ledger.mint


@pytest.mark.parametrize("which", m.INSTRUCTION_NAMES)
def test_missing_instruction(ledger: InProcessChain, args, which: str) -> None:
    payment = m.missing_instruction(*args, which=which)
    expected = [p for i, p in enumerate(CANONICAL) if i != m.INSTRUCTION_NAMES.index(which)]
    assert programs(payment) == expected
    if which == "transfer":  # nothing left for the owner to sign
        assert ledger.owner.pubkey() not in tx(payment).message.account_keys
    else:
        assert owner_signature_valid(payment, ledger.owner.pubkey())


@pytest.mark.parametrize(
    ("kind", "fifth"),
    [("memo", MEMO_PROGRAM_ID), ("transfer", TOKEN_PROGRAM_ID), ("system", SYSTEM_PROGRAM_ID)],
)
def test_extra_instruction(ledger: InProcessChain, args, kind: str, fifth: Pubkey) -> None:
    payment = m.extra_instruction(*args, kind=kind)
    assert programs(payment) == [*CANONICAL, fifth]
    if kind == "transfer":
        assert data(payment, 4) == data(payment, 2)
        assert accounts(payment, 4) == accounts(payment, 2)
    if kind == "memo":
        assert data(payment, 4) != data(payment, 3)
    if kind == "system":
        assert accounts(payment, 4) == [ledger.owner.pubkey(), ledger.pay_to]
    assert owner_signature_valid(payment, ledger.owner.pubkey())


@pytest.mark.parametrize("index", [0, 2, 4])
def test_lighthouse_instruction(ledger: InProcessChain, args, index: int) -> None:
    payment = m.lighthouse_instruction(*args, index=index)
    expected = list(CANONICAL)
    expected.insert(index, LIGHTHOUSE_PROGRAM_ID)
    assert programs(payment) == expected
    assert data(payment, index) == b"\x00" and accounts(payment, index) == []
    assert payment.description == f"has a Lighthouse instruction at index {index}"
    assert owner_signature_valid(payment, ledger.owner.pubkey())
    with pytest.raises(PaymentBuildError, match="index must be 0 to 4"):
        m.lighthouse_instruction(*args, index=5)


def test_flight_instructions(ledger: InProcessChain, args) -> None:
    from solders.system_program import TransferParams, transfer

    owner = ledger.owner.pubkey()
    nothing = transfer(TransferParams(from_pubkey=owner, to_pubkey=owner, lamports=0))
    payment = m.flight_instructions(*args, before=[nothing], after=[nothing, nothing])
    assert programs(payment) == [
        SYSTEM_PROGRAM_ID,
        *CANONICAL,
        SYSTEM_PROGRAM_ID,
        SYSTEM_PROGRAM_ID,
    ]
    assert data(payment, 1) == data(m.flight_instructions(*args), 0)  # the payment unchanged
    assert payment.description.startswith("has 1 instruction(s) before and 2 after the payment")
    assert owner_signature_valid(payment, owner)


def test_fee_payer_as_authority(ledger: InProcessChain, args) -> None:
    payment = m.fee_payer_as_authority(*args)
    fee_payer = ledger.fee_payer.pubkey()
    transfer = accounts(payment, 2)
    assert transfer[3] == fee_payer
    assert transfer[0] == ledger.ata(fee_payer)
    transaction = tx(payment)
    assert transaction.message.header.num_required_signatures == 1
    assert transaction.signatures == [Signature.default()]
    assert ledger.owner.pubkey() not in transaction.message.account_keys


@pytest.mark.parametrize("into", ["memo", "transfer"])
def test_fee_payer_in_instruction(ledger: InProcessChain, args, into: str) -> None:
    payment = m.fee_payer_in_instruction(*args, into=into)
    fee_payer = ledger.fee_payer.pubkey()
    index = 3 if into == "memo" else 2
    assert fee_payer in accounts(payment, index)
    assert accounts(payment, 2)[3] == ledger.owner.pubkey()  # authority unchanged
    assert programs(payment) == CANONICAL
    assert tx(payment).signatures[0] == Signature.default()
    assert owner_signature_valid(payment, ledger.owner.pubkey())


def test_compute_price_and_limit_too_high(args) -> None:
    price = m.compute_price_too_high(*args)
    assert data(price, 1) == bytes([3]) + struct.pack("<Q", 5_000_001)
    assert data(price, 0) == bytes([2]) + struct.pack("<I", 20_000)
    limit = m.compute_limit_too_high(*args, units=300_000)
    assert data(limit, 0) == bytes([2]) + struct.pack("<I", 300_000)
    assert data(limit, 1) == bytes([3]) + struct.pack("<Q", 1)


def test_stale_blockhash(ledger: InProcessChain, args) -> None:
    old = Hash.new_unique()
    payment = m.stale_blockhash(*args, stale=old)
    assert tx(payment).message.recent_blockhash == old
    assert tx(m.stale_blockhash(*args)).message.recent_blockhash != ledger.blockhash
    assert owner_signature_valid(payment, ledger.owner.pubkey())


@pytest.mark.parametrize("kind", ["flipped", "missing", "wrong_key"])
def test_bad_signature(ledger: InProcessChain, args, kind: str) -> None:
    payment = m.bad_signature(*args, kind=kind)
    good = build_payment(*args, memo=payment.memo)
    assert bytes(tx(payment).message) == bytes(good.transaction.message)  # same message
    assert not owner_signature_valid(payment, ledger.owner.pubkey())
    signature = tx(payment).signatures[1]
    if kind == "missing":
        assert signature == Signature.default()
    if kind == "flipped":
        good_signature = bytes(good.transaction.signatures[1])
        diff = bytes(a ^ b for a, b in zip(bytes(signature), good_signature, strict=True))
        assert diff == bytes([1]) + bytes(63)


def test_reused_memo(ledger: InProcessChain, args) -> None:
    first = build_payment(*args)
    again = m.reused_memo(*args, memo=first.memo)
    assert data(again, 3) == data(first, 3) == first.memo.encode()
    assert again.memo == first.memo
    assert owner_signature_valid(again, ledger.owner.pubkey())


def test_wrong_network_v2_and_v1(ledger: InProcessChain, args) -> None:
    v2 = m.wrong_network(*args)
    assert v2.wire["accepted"]["network"] == SOLANA_MAINNET
    assert {**v2.wire["accepted"], "network": args[0].network} == args[0].to_wire()
    v1_args = (ledger.requirements_v1(), *args[1:])
    v1 = m.wrong_network(*v1_args)
    assert v1.wire["network"] == "solana"
    assert v1.header_name == X_PAYMENT
    # the transaction itself is correct
    assert programs(v2) == CANONICAL and owner_signature_valid(v2, ledger.owner.pubkey())


@pytest.mark.parametrize("field", ["amount", "payTo"])
def test_accepted_mismatch(ledger: InProcessChain, args, field: str) -> None:
    payment = m.accepted_mismatch(*args, field=field)
    accepted = payment.wire["accepted"]
    offered = args[0].to_wire()
    assert {k for k in offered if offered[k] != accepted[k]} == {field}
    if field == "amount":
        assert accepted["amount"] == "9999"
        assert data(payment, 2)[1:9] == struct.pack("<Q", 9_999)
    with pytest.raises(PaymentBuildError):
        m.accepted_mismatch(ledger.requirements_v1(), *args[1:])


def test_version_mixups(ledger: InProcessChain, args) -> None:
    v1_requirements = ledger.requirements_v1()
    v1_for_v2 = m.version_mixup(*args, kind="v1_payload_for_v2")
    assert v1_for_v2.header_name == X_PAYMENT
    decoded = decode_payment_payload(v1_for_v2.header_value, X_PAYMENT)
    assert isinstance(decoded, PaymentPayloadV1) and decoded.network == "solana-devnet"
    assert v1_for_v2.requirements == args[0]

    v2_for_v1 = m.version_mixup(v1_requirements, *args[1:], kind="v2_payload_for_v1")
    assert v2_for_v1.header_name == PAYMENT_SIGNATURE
    decoded = decode_payment_payload(v2_for_v1.header_value)
    assert isinstance(decoded, PaymentPayload)
    assert decoded.accepted.amount == v1_requirements.max_amount_required
    assert decoded.accepted.network == args[0].network

    for kind in ("v2_shape_labelled_v1", "v1_shape_labelled_v2"):
        mixed = m.version_mixup(*args, kind=kind)
        with pytest.raises(ProtocolError, match="missing field"):
            decode_payment_payload(mixed.header_value)

    v1_network = m.version_mixup(*args, kind="v1_network_in_v2")
    assert v1_network.payload.accepted.network == "solana-devnet"
    # every mix-up carries the same, correct transaction
    for payment in (v1_for_v2, v2_for_v1, v1_network):
        assert programs(payment) == CANONICAL
        assert owner_signature_valid(payment, ledger.owner.pubkey())


def test_unknown_knobs_are_refused(args) -> None:
    with pytest.raises(PaymentBuildError, match="which must be"):
        m.missing_instruction(*args, which="fee")
    with pytest.raises(PaymentBuildError, match="kind must be"):
        m.extra_instruction(*args, kind="nope")
    with pytest.raises(PaymentBuildError, match="kind must be one of"):
        m.version_mixup(*args, kind="v3")


def test_every_mutation_has_a_description(ledger: InProcessChain, args) -> None:
    for name, mutate in m.MUTATIONS.items():
        extra = {"memo": "abc"} if name == "reused_memo" else {}
        payment = mutate(*args, **extra)
        assert payment.description, name
