"""The role-based layout (`--layout role-based`): what it accepts that the positional one refuses,
each of its rules with its reason, the create-ATA's pins, and the policy's flags and /health."""

from __future__ import annotations

import json

import orjson
import pytest
from facilitator_builders import (
    Parties,
    compute_limit,
    compute_price,
    instructions,
    memo,
    requirements,
    transfer,
)
from fake_chain import FakeChain
from role_builders import (
    AMOUNT,
    CREATE,
    LIGHTHOUSE,
    POSTFLIGHT,
    PREFLIGHT,
    ROLE,
    ROLE_RULES,
    create_ata,
    flight,
    pay,
    with_create,
)
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.facilitator.cli import build_parser, settings_from_args
from sandbox.facilitator.provider import Simulation
from sandbox.facilitator.service import Facilitator
from sandbox.facilitator.settings import Settings
from sandbox.facilitator.verification import simulation_rejection
from sandbox.protocol import parse_facilitator_request, reasons
from sandbox.protocol.exact_svm.facilitator import (
    CheckedPayment,
    Rejection,
    VerifyPolicy,
    check_payment,
)
from sandbox.protocol.networks import SOLANA_DEVNET
from sandbox.protocol.programs import LIGHTHOUSE_PROGRAM_ID, TOKEN_2022_PROGRAM_ID


@pytest.fixture
def p() -> Parties:
    return Parties()


def check(p: Parties, request_body: dict, **policy):
    request = parse_facilitator_request(orjson.dumps(request_body))
    verify_policy = VerifyPolicy(
        fee_payers=frozenset([p.fee_payer.pubkey()]), network=SOLANA_DEVNET, **policy
    )
    return check_payment(request, verify_policy)


def valid(result) -> CheckedPayment:
    assert isinstance(result, CheckedPayment), result
    return result


def refused(result, reason: str) -> Rejection:
    assert isinstance(result, Rejection), f"expected {reason}, got a valid payment"
    assert result.reason == reason, result
    assert result.message
    return result


@pytest.mark.parametrize(
    ("reason", "build", "policy"),
    ROLE_RULES,
    ids=[f"{i}-{reason.name}" for i, (reason, _, _) in enumerate(ROLE_RULES)],
)
def test_every_role_based_rule_answers_its_reason(p, reason, build, policy):
    refused(check(p, build(p), **policy), reason)


# ---------------------------------------------------------------- accepted by role


def test_the_official_layout_passes_in_both(p):
    for layout in ("positional", "role-based"):
        result = valid(check(p, pay(p, instructions(p, AMOUNT, "n-1")), layout=layout))
        assert result.transfer_index == 2 and result.memo == b"n-1"


@pytest.mark.parametrize("where", [0, 1, 2, 3, 4])
def test_lighthouse_anywhere(p, where):
    ixs = instructions(p, AMOUNT)
    ixs.insert(where, LIGHTHOUSE)
    result = valid(check(p, pay(p, ixs), **ROLE))
    assert result.transfer_index == (3 if where <= 2 else 2)
    if where < 3:  # before the transfer: the positional layout refuses it
        assert isinstance(check(p, pay(p, ixs)), Rejection)


def test_several_memos_without_extra_memo(p):
    ixs = [*instructions(p, AMOUNT), memo("b"), LIGHTHOUSE, memo("c")]
    result = valid(check(p, pay(p, ixs), **ROLE))
    assert result.memo is None and result.nonce_key is None  # no single memo is the nonce
    refused(check(p, pay(p, ixs)), reasons.SVM_MEMO_COUNT)  # positional: at most one
    req = requirements(p, AMOUNT, memo="")  # empty: unset
    valid(check(p, pay(p, ixs, req), **ROLE))
    req = requirements(p, AMOUNT, memo="order-1")
    valid(check(p, pay(p, instructions(p, AMOUNT, "order-1"), req), **ROLE))
    refused(check(p, pay(p, instructions(p, AMOUNT)[:3], req), **ROLE), reasons.SVM_MEMO_COUNT)


def test_allow_listed_preflight_and_postflight(p):
    other = Pubkey.new_unique()
    ixs = [
        flight(PREFLIGHT, other),
        LIGHTHOUSE,
        flight(PREFLIGHT),
        *instructions(p, AMOUNT),
        flight(POSTFLIGHT, other),
    ]
    allowed = {
        "preflight_allow": frozenset([PREFLIGHT]),
        "postflight_allow": frozenset([POSTFLIGHT]),
    }
    result = valid(check(p, pay(p, ixs), **ROLE, **allowed, max_instructions=9))
    assert result.transfer_index == 5
    # Not allow-listed, or on the wrong side: an unknown instruction.
    refused(check(p, pay(p, ixs), **ROLE, max_instructions=9), reasons.SVM_UNKNOWN_INSTRUCTION)
    swapped = {
        "preflight_allow": frozenset([POSTFLIGHT]),
        "postflight_allow": frozenset([PREFLIGHT]),
    }
    got = check(p, pay(p, ixs), **ROLE, **swapped, max_instructions=9)
    refused(got, reasons.SVM_UNKNOWN_INSTRUCTION)
    # Inside the payment, an allow-listed program is still unknown.
    inside = [*instructions(p, AMOUNT)[:2], flight(PREFLIGHT), *instructions(p, AMOUNT)[2:]]
    refused(check(p, pay(p, inside), **ROLE, **allowed), reasons.SVM_UNKNOWN_INSTRUCTION)


@pytest.mark.parametrize("program", ["token", "token-2022"])
def test_create_ata_for_a_first_time_merchant(program):
    p = Parties(program=TOKEN_2022_PROGRAM_ID) if program == "token-2022" else Parties()
    result = valid(check(p, pay(p, with_create(p)), **CREATE))
    assert result.transfer_index == 3
    assert result.fee_payer == p.fee_payer.pubkey()
    # Off by default, and never in the positional layout.
    refused(check(p, pay(p, with_create(p)), **ROLE), reasons.SVM_UNKNOWN_INSTRUCTION)
    assert isinstance(check(p, pay(p, with_create(p)), allow_create_ata=True), Rejection)


def test_create_ata_with_lighthouse_around_it(p):
    ixs = [
        compute_limit(),
        compute_price(),
        LIGHTHOUSE,
        create_ata(p),
        LIGHTHOUSE,
        transfer(p, AMOUNT),
    ]
    assert valid(check(p, pay(p, ixs), **CREATE)).transfer_index == 5


def test_only_one_create_ata_and_only_before_the_transfer(p):
    twice = [compute_limit(), compute_price(), create_ata(p), create_ata(p), transfer(p, AMOUNT)]
    refused(check(p, pay(p, twice), **CREATE), reasons.SVM_INSTRUCTIONS_ORDER)
    early = [compute_limit(), create_ata(p), compute_price(), transfer(p, AMOUNT)]
    refused(check(p, pay(p, early), **CREATE), reasons.SVM_INSTRUCTIONS_ORDER)


def test_the_fee_payer_stays_isolated_in_the_payment(p):
    # The create-ATA's funder is the fee payer (pinned); anywhere else it is refused.
    ixs = [*with_create(p)[:4], flight(LIGHTHOUSE_PROGRAM_ID, p.fee_payer.pubkey())]
    got = check(p, pay(p, ixs), **CREATE)
    refused(got, reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS)
    as_owner = Parties(fee_payer=p.fee_payer, pay_to=p.fee_payer.pubkey())
    refused(
        check(as_owner, pay(as_owner, with_create(as_owner)), **CREATE),
        reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS,
    )


def test_insufficient_funds_is_read_at_the_transfers_index():
    simulation = Simulation(err={"InstructionError": [3, {"Custom": 1}]}, logs=[])
    assert simulation_rejection(simulation).reason == reasons.TRANSACTION_SIMULATION_FAILED
    assert simulation_rejection(simulation, 3).reason == reasons.INSUFFICIENT_FUNDS


# ---------------------------------------------------------------- flags, settings, /health


def _keyfile(tmp_path) -> str:
    path = tmp_path / "fee-payer.json"
    path.write_text(json.dumps(list(bytes(Keypair()))))
    return str(path)


def test_flags_build_the_policy(tmp_path):
    parser = build_parser()
    default = settings_from_args(parser.parse_args(["--fee-payer-keypair", _keyfile(tmp_path)]))
    assert default.layout == "positional" and not default.allow_create_ata
    program = str(Pubkey.new_unique())
    args = parser.parse_args(
        [
            "--fee-payer-keypair", _keyfile(tmp_path), "--layout", "role-based",
            "--preflight-allow", program, "--postflight-allow", program, "--allow-create-ata",
        ]
    )  # fmt: skip
    settings = settings_from_args(args)
    assert settings.verification_policy() == {
        "layout": "role-based",
        "preflightAllow": [program],
        "postflightAllow": [program],
        "allowCreateAta": True,
        "maxCreatedAccountsPerMinute": 60,
    }


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"allow_create_ata": True}, "--allow-create-ata needs --layout role-based"),
        ({"preflight_allow": (str(Pubkey.new_unique()),)}, "--preflight-allow needs"),
        ({"postflight_allow": (str(Pubkey.new_unique()),)}, "--postflight-allow needs"),
        ({"layout": "diagonal"}, "--layout must be one of"),
        ({"layout": "role-based", "preflight_allow": ("nope",)}, "not a program address"),
        (
            {"layout": "role-based", "postflight_allow": (str(LIGHTHOUSE_PROGRAM_ID),)},
            "cannot be allow-listed",
        ),
    ],
)
def test_bad_policies_are_refused_naming_the_flag(changes, complaint):
    with pytest.raises(ValueError, match=complaint):
        Settings(rpc_url="http://fake.invalid:1", fee_payers=(Keypair(),), **changes)


@pytest.mark.parametrize("policy", [{}, {"layout": "role-based", "allow_create_ata": True}])
async def test_health_reports_the_policy_and_it_is_applied(tmp_path, policy):
    p = Parties()
    settings = Settings(
        rpc_url="http://fake.invalid:1",
        fee_payers=(p.fee_payer,),
        ledger_path=tmp_path / "ledger.sqlite3",
        **policy,
    )
    facilitator = Facilitator(settings, FakeChain())
    await facilitator.start()
    await facilitator.wait_ready()
    try:
        _status, health = await facilitator.health()
        assert health["verification"]["layout"] == policy.get("layout", "positional")
        assert health["verification"]["allowCreateAta"] is bool(policy)
        request = parse_facilitator_request(orjson.dumps(pay(p, with_create(p))))
        result = facilitator.verifier.check(request)
        assert isinstance(result, CheckedPayment) is bool(policy), result
    finally:
        await facilitator.stop()
