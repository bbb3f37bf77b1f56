"""The payer's create-ATA layout (`create_ata=True`, `x402-sandbox pay --create-ata`): built as the
role-based facilitator with --allow-create-ata accepts it, and as the positional one refuses it."""

from __future__ import annotations

import orjson
import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.payer import MintInfo, PaymentBuildError, X402Client, build_payment
from sandbox.payer.cli import build_parser
from sandbox.payer.mutations import CREATE_ATA_PINS, create_ata_pin
from sandbox.protocol import PaymentRequirements, parse_facilitator_request
from sandbox.protocol.exact_svm import client
from sandbox.protocol.exact_svm.facilitator import CheckedPayment, VerifyPolicy, check_payment
from sandbox.protocol.networks import SOLANA_DEVNET, USDC_DEVNET_MINT
from sandbox.protocol.programs import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    SYSTEM_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    associated_token_address,
)

FEE_PAYER = Keypair()


def _requirements(pay_to: Pubkey, asset: Pubkey) -> PaymentRequirements:
    return PaymentRequirements(
        scheme="exact",
        network=SOLANA_DEVNET,
        amount="1000",
        asset=str(asset),
        pay_to=str(pay_to),
        max_timeout_seconds=60,
        extra={"feePayer": str(FEE_PAYER.pubkey())},
    )


@pytest.mark.parametrize("program", [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID])
def test_create_ata_layout_is_what_the_role_based_facilitator_accepts(program):
    mint = MintInfo(Pubkey.from_string(USDC_DEVNET_MINT), 6, program)
    owner, pay_to = Keypair(), Keypair().pubkey()
    requirements = _requirements(pay_to, mint.address)
    payment = build_payment(requirements, owner, mint, Hash.new_unique(), create_ata=True)
    message = payment.transaction.message
    keys = message.account_keys
    ata = message.instructions[2]
    assert keys[ata.program_id_index] == ASSOCIATED_TOKEN_PROGRAM_ID
    assert bytes(ata.data) == b"\x01"
    assert [keys[i] for i in bytes(ata.accounts)] == [
        FEE_PAYER.pubkey(),
        associated_token_address(pay_to, mint.address, program),
        pay_to,
        mint.address,
        SYSTEM_PROGRAM_ID,
        program,
    ]
    assert message.header.num_required_signatures == 2  # fee payer and owner, as before
    request = parse_facilitator_request(orjson.dumps(payment.facilitator_body()))
    keys = frozenset([FEE_PAYER.pubkey()])
    role_based = VerifyPolicy(
        fee_payers=keys, network=SOLANA_DEVNET, layout="role-based", allow_create_ata=True
    )
    checked = check_payment(request, role_based)
    assert isinstance(checked, CheckedPayment) and checked.transfer_index == 3
    assert not isinstance(
        check_payment(request, VerifyPolicy(fee_payers=keys, network=SOLANA_DEVNET)),
        CheckedPayment,
    )


def test_without_the_option_the_layout_is_unchanged():
    mint = MintInfo(Pubkey.from_string(USDC_DEVNET_MINT), 6)
    spec = client.transfer_spec(
        _requirements(Keypair().pubkey(), mint.address), Keypair().pubkey(), mint, Hash.default()
    )
    assert not spec.create_ata
    assert len(client.payment_instructions(spec)) == 4


def test_the_flag_and_the_client_option():
    assert build_parser().parse_args(["http://x/", "--create-ata"]).create_ata is True
    assert build_parser().parse_args(["http://x/"]).create_ata is False
    assert X402Client(Keypair(), create_ata=True).create_ata is True


@pytest.mark.parametrize("pin", list(CREATE_ATA_PINS))
def test_each_create_ata_pin_mutation_is_refused_with_its_own_reason(pin):
    mint = MintInfo(Pubkey.from_string(USDC_DEVNET_MINT), 6)
    requirements = _requirements(Keypair().pubkey(), mint.address)
    payment = create_ata_pin(requirements, Keypair(), mint, Hash.new_unique(), pin=pin)
    assert payment.description.startswith("create-ATA with ")
    request = parse_facilitator_request(orjson.dumps(payment.facilitator_body()))
    policy = VerifyPolicy(
        fee_payers=frozenset([FEE_PAYER.pubkey()]),
        network=SOLANA_DEVNET,
        layout="role-based",
        allow_create_ata=True,
    )
    rejection = check_payment(request, policy)
    assert getattr(rejection, "reason", None) == f"invalid_exact_svm_payload_create_ata_{pin}" + (
        "" if pin in ("not_idempotent", "account_count") else "_mismatch"
    )


def test_an_unknown_pin_is_refused():
    mint = MintInfo(Pubkey.from_string(USDC_DEVNET_MINT), 6)
    with pytest.raises(PaymentBuildError, match="pin must be one of"):
        create_ata_pin(_requirements(Keypair().pubkey(), mint.address), Keypair(), mint,
                       Hash.new_unique(), pin="rent")  # fmt: skip
