"""Every reason the facilitator and the server can answer is a member of `reasons.Reason`.

In process: each rule of `check_payment` is driven once (the unknown instruction at every
position up to the limit, and past the reasons' table; the role-based layout's rules from
role_builders.py), and the cases must reach every reason
its module names, so a new rule without a case here fails. The server's own refusals (reading a
payment header, binding a payload to its offer) are driven too. The rest of sandbox/ is read:
every `reasons.NAME` is a member, and no reason is spelled as a literal or an f-string.
"""

from __future__ import annotations

import ast
import base64
from pathlib import Path

import orjson
import pytest
from facilitator_builders import (
    Parties,
    body,
    compute_limit,
    compute_price,
    instructions,
    memo,
    requirements,
    sign,
    transfer,
    valid_body,
)
from fake_chain import FakeChain
from role_builders import ROLE_RULES
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageAddressTableLookup, MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from sandbox.facilitator.answers import Answers
from sandbox.facilitator.service import Facilitator
from sandbox.facilitator.settings import Settings
from sandbox.protocol import (
    PaymentPayload,
    PaymentPayloadV1,
    ProtocolError,
    decode_payment_payload,
    encode_json_header,
    parse_facilitator_request,
    reasons,
)
from sandbox.protocol.exact_svm import transaction as svm_transaction
from sandbox.protocol.exact_svm.facilitator import Rejection, VerifyPolicy, check_payment
from sandbox.protocol.exact_svm.transaction import DEFAULT_MAX_INSTRUCTIONS
from sandbox.protocol.networks import SOLANA_DEVNET, SOLANA_MAINNET
from sandbox.protocol.programs import LIGHTHOUSE_PROGRAM_ID, associated_token_address
from sandbox.protocol.reasons import UNKNOWN_INSTRUCTION, Reason
from sandbox.server.binding import BindingError, check_v1_payload, check_v2_accepted

ROOT = Path(__file__).resolve().parents[2]
AMOUNT = 10_000
EXACT_SVM = ROOT / "sandbox" / "protocol" / "exact_svm"


def answer(p: Parties, request_body: dict, **policy) -> str:
    request = parse_facilitator_request(orjson.dumps(request_body))
    policy = VerifyPolicy(
        fee_payers=frozenset([p.fee_payer.pubkey()]), network=SOLANA_DEVNET, **policy
    )
    result = check_payment(request, policy)
    assert isinstance(result, Rejection), "expected a rejection, got a valid payment"
    assert isinstance(result.reason, Reason), f"{result.reason!r} is not a Reason member"
    return result.reason


def pay(p: Parties, ixs, req: dict | None = None, **kw) -> dict:
    return body(sign(p, ixs, **kw), req or requirements(p, AMOUNT))


def edited(p: Parties, edit) -> dict:
    b = pay(p, instructions(p, AMOUNT))
    edit(b)
    return b


def _lookup_table(p: Parties) -> dict:
    tx = sign(p, instructions(p, AMOUNT))
    m = tx.message
    lookup = MessageAddressTableLookup(Pubkey.new_unique(), bytes([0]), bytes([]))
    v0 = MessageV0(m.header, m.account_keys, m.recent_blockhash, m.instructions, [lookup])
    return body(VersionedTransaction.populate(v0, list(tx.signatures)), requirements(p, AMOUNT))


def _with(p: Parties, index: int, ix) -> list:
    ixs = instructions(p, AMOUNT)
    ixs[index] = ix
    return ixs


def _extra_signer(p: Parties) -> dict:
    stranger = Keypair()
    ix = Instruction(memo().program_id, b"hi", [AccountMeta(stranger.pubkey(), True, False)])
    return pay(p, _with(p, 3, ix), signers=[p.client, stranger])


def _requirements(p: Parties, **changes) -> dict:
    return {**requirements(p, AMOUNT), **changes}


def _no_fee_payer(p: Parties) -> dict:
    req = requirements(p, AMOUNT)
    del req["extra"]["feePayer"]
    return pay(p, instructions(p, AMOUNT), req)


# One case per rule of check_payment, in its order: (reason, build the /verify body).
RULES = [
    (
        reasons.UNSUPPORTED_SCHEME,
        lambda p: pay(p, instructions(p, AMOUNT), _requirements(p, scheme="upto")),
    ),
    (
        reasons.NETWORK_MISMATCH,
        lambda p: pay(p, instructions(p, AMOUNT), _requirements(p, network=SOLANA_MAINNET)),
    ),
    (
        reasons.INVALID_PAYMENT_REQUIREMENTS,
        lambda p: edited(
            p,
            lambda b: b["paymentPayload"].update(
                accepted={**b["paymentRequirements"], "amount": "1"}
            ),
        ),
    ),
    (
        reasons.INVALID_PAYMENT_REQUIREMENTS,
        lambda p: pay(p, instructions(p, AMOUNT), _requirements(p, asset="x")),
    ),
    (reasons.SVM_MISSING_FEE_PAYER, _no_fee_payer),
    (
        reasons.FEE_PAYER_NOT_MANAGED,
        lambda p: pay(
            p,
            instructions(p, AMOUNT),
            requirements(p, AMOUNT) | {"extra": {"feePayer": str(Pubkey.new_unique())}},
        ),
    ),
    (reasons.SVM_PAYLOAD, lambda p: edited(p, lambda b: b["paymentPayload"].update(payload={}))),
    (
        reasons.SVM_NOT_DECODABLE,
        lambda p: edited(p, lambda b: b["paymentPayload"]["payload"].update(transaction="!!")),
    ),
    (
        reasons.FEE_PAYER_NOT_MANAGED,
        lambda p: pay(p, instructions(p, AMOUNT), payer_key=Keypair().pubkey()),
    ),
    (reasons.SVM_ADDRESS_LOOKUP_TABLES, _lookup_table),
    (reasons.SVM_INSTRUCTIONS_LENGTH, lambda p: pay(p, instructions(p, AMOUNT)[:2])),
    (reasons.SVM_COMPUTE_LIMIT_INSTRUCTION, lambda p: pay(p, _with(p, 0, compute_price()))),
    (reasons.SVM_COMPUTE_LIMIT_TOO_HIGH, lambda p: pay(p, _with(p, 0, compute_limit(1_400_000)))),
    (reasons.SVM_COMPUTE_PRICE_INSTRUCTION, lambda p: pay(p, _with(p, 1, memo()))),
    (reasons.SVM_COMPUTE_PRICE_TOO_HIGH, lambda p: pay(p, _with(p, 1, compute_price(5_000_001)))),
    (reasons.SVM_NO_TRANSFER_INSTRUCTION, lambda p: pay(p, _with(p, 2, memo()))),
    (
        reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS,
        lambda p: pay(
            p,
            _with(
                p,
                2,
                transfer(p, AMOUNT, source=associated_token_address(p.fee_payer.pubkey(), p.mint)),
            ),
        ),
    ),
    (reasons.SVM_EXCESSIVE_SIGNERS, _extra_signer),
    (reasons.SVM_SIGNATURE_INVALID, lambda p: pay(p, instructions(p, AMOUNT), signers=[])),
    (
        reasons.SVM_MINT_MISMATCH,
        lambda p: pay(p, _with(p, 2, transfer(p, AMOUNT, mint=Pubkey.new_unique()))),
    ),
    (
        reasons.SVM_RECIPIENT_MISMATCH,
        lambda p: pay(p, _with(p, 2, transfer(p, AMOUNT, destination=p.pay_to))),
    ),
    (reasons.SVM_AMOUNT_INSUFFICIENT, lambda p: pay(p, instructions(p, AMOUNT - 1))),
    (reasons.SVM_AMOUNT_MISMATCH, lambda p: pay(p, instructions(p, AMOUNT + 1))),
    (
        reasons.INVALID_PAYMENT_REQUIREMENTS,
        lambda p: pay(p, instructions(p, AMOUNT), requirements(p, AMOUNT, memo=7)),
    ),
    (reasons.SVM_MEMO_COUNT, lambda p: pay(p, [*instructions(p, AMOUNT), memo()])),
    (
        reasons.SVM_MEMO_MISMATCH,
        lambda p: pay(p, instructions(p, AMOUNT, "b"), requirements(p, AMOUNT, memo="a")),
    ),
    (reasons.SVM_MEMO_MISMATCH, lambda p: pay(p, instructions(p, AMOUNT, "m" * 257))),
]


PARTIES = Parties()
STRANGER = Instruction(Pubkey.new_unique(), b"", [])  # a program no payment may call
LIGHTHOUSE = Instruction(LIGHTHOUSE_PROGRAM_ID, b"\x00", [])  # allowed after the transfer


@pytest.mark.parametrize(
    ("reason", "build"), RULES, ids=[f"{i}-{reason.name}" for i, (reason, _) in enumerate(RULES)]
)
def test_every_rule_answers_its_reason_as_a_member(reason: Reason, build) -> None:
    assert answer(PARTIES, build(PARTIES)) == reason


def _unknown_at(index: int) -> list:
    """The payment with Lighthouse fillers after the transfer and a stranger at `index`."""
    return [*instructions(PARTIES, AMOUNT)[:3], *[LIGHTHOUSE] * (index - 3), STRANGER]


@pytest.mark.parametrize("index", range(3, DEFAULT_MAX_INSTRUCTIONS))
def test_unknown_instruction_at_each_position_up_to_the_limit(index: int) -> None:
    assert answer(PARTIES, pay(PARTIES, _unknown_at(index))) == UNKNOWN_INSTRUCTION[index]


def test_the_table_reaches_the_default_limit_and_no_further() -> None:
    assert sorted(UNKNOWN_INSTRUCTION) == list(range(3, DEFAULT_MAX_INSTRUCTIONS))
    assert UNKNOWN_INSTRUCTION[6] == "invalid_exact_svm_payload_unknown_seventh_instruction"


@pytest.mark.parametrize("index", [7, 8])
def test_past_the_table_the_instruction_count_reason_answers(index: int) -> None:
    got = answer(PARTIES, pay(PARTIES, _unknown_at(index)), max_instructions=9)
    assert got == reasons.SVM_INSTRUCTIONS_LENGTH


def _reasons_named(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "reasons"
    }


@pytest.mark.parametrize(
    ("reason", "build", "changes"),
    ROLE_RULES,
    ids=[f"{i}-{reason.name}" for i, (reason, _, _) in enumerate(ROLE_RULES)],
)
def test_every_role_based_rule_answers_its_reason_as_a_member(reason, build, changes) -> None:
    assert answer(PARTIES, build(PARTIES), **changes) == reason


def test_the_cases_reach_every_reason_the_checks_name() -> None:
    named = set()
    for module in ("facilitator.py", "transaction.py", "layouts.py"):
        named |= _reasons_named(EXACT_SVM / module)
    named.discard("unknown_instruction")  # the positional reasons, driven above
    reached = {reason.name for reason, _ in RULES} | {r.name for r in UNKNOWN_INSTRUCTION.values()}
    reached |= {reason.name for reason, _, _ in ROLE_RULES}
    assert named - reached == set(), "a rule of check_payment without a case here"


# ---------------------------------------------------------------- the server's own refusals


def test_the_servers_reading_of_a_payment_answers_members() -> None:
    header = "PAYMENT-SIGNATURE"
    tx = base64.b64encode(bytes(sign(PARTIES, instructions(PARTIES, AMOUNT)))).decode()
    cases = [
        lambda: svm_transaction.read_transaction(None, header),
        lambda: svm_transaction.read_transaction("!!", header),
        lambda: svm_transaction.read_transaction(base64.b64encode(b"\x01\x02").decode(), header),
        lambda: svm_transaction.decode_transaction(tx + "AA"),
        lambda: decode_payment_payload("%%%", header),
        lambda: decode_payment_payload(encode_json_header({"x402Version": 7}), header),
    ]
    for case in cases:
        with pytest.raises(ProtocolError) as raised:
            case()
        assert isinstance(raised.value.reason, Reason), raised.value


def test_the_servers_binding_answers_members() -> None:
    offered = requirements(PARTIES, AMOUNT)
    v2 = PaymentPayload.model_validate(
        pay(PARTIES, instructions(PARTIES, AMOUNT))["paymentPayload"]
    )
    v1 = PaymentPayloadV1.model_validate(
        body(sign(PARTIES, instructions(PARTIES, AMOUNT)), offered, version=1)["paymentPayload"]
    )
    cases = [
        lambda: check_v2_accepted(v2, {**offered, "scheme": "upto"}, "/"),
        lambda: check_v2_accepted(v2, {**offered, "network": SOLANA_MAINNET}, "/"),
        lambda: check_v2_accepted(v2, {**offered, "amount": "1"}, "/"),
        lambda: check_v2_accepted(v2, {**offered, "payTo": "other"}, "/"),
        lambda: check_v2_accepted(v2, offered, "/elsewhere"),
        lambda: check_v1_payload(v1, "upto", "solana-devnet"),
        lambda: check_v1_payload(v1, "exact", "solana"),
    ]
    for case in cases:
        with pytest.raises(BindingError) as raised:
            case()
        assert isinstance(raised.value.reason, Reason), raised.value


# ---------------------------------------------------------------- the facilitator's guard


async def test_the_payer_cooldown_answers_a_member_from_verify_and_settle(tmp_path) -> None:
    """guard.py: a payer whose settlement failed on chain, refused as a Reason member on the
    wire; the reasons the guard's modules name are all reached here or above."""
    chain = FakeChain()
    chain.landing_err = {"InstructionError": [2, {"Custom": 1}]}
    settings = Settings(
        rpc_url="http://fake.invalid:1",
        fee_payers=(PARTIES.fee_payer,),
        ledger_path=tmp_path / "ledger.sqlite3",
    )
    fac = Facilitator(settings, chain)
    await fac.start()
    await fac.wait_ready()
    try:
        failed = await fac.settle(parse_facilitator_request(orjson.dumps(valid_body(PARTIES))))
        assert isinstance(failed.reason, Reason) and failed.reason == reasons.TRANSACTION_FAILED
        again = parse_facilitator_request(orjson.dumps(valid_body(PARTIES)))
        verified, settled = await fac.verify(again), await fac.settle(again)
        for result in (verified, settled):
            assert isinstance(result.reason, Reason)
            assert result.reason is Reason.PAYER_TEMPORARILY_REFUSED
        wire = Answers(fac.metrics).settle(again, settled)
        assert wire["errorReason"] == "payer_temporarily_refused"
    finally:
        await fac.stop()
    named = _reasons_named(ROOT / "sandbox" / "facilitator" / "verification.py")
    named |= _reasons_named(ROOT / "sandbox" / "facilitator" / "settlement.py")
    assert "PAYER_TEMPORARILY_REFUSED" in named


# ---------------------------------------------------------------- the rest of sandbox/, read


def _sources():
    for path in sorted((ROOT / "sandbox").rglob("*.py")):
        if path != ROOT / "sandbox" / "protocol" / "reasons.py":
            yield path, ast.parse(path.read_text(), str(path))


def test_every_reason_named_in_sandbox_is_a_member() -> None:
    unknown = {
        f"{path.relative_to(ROOT)}: reasons.{name}"
        for path, _ in _sources()
        for name in _reasons_named(path)
        if not isinstance(getattr(reasons, name, None), Reason) and name not in reasons.__all__
    }
    assert unknown == set()


def test_no_reason_is_spelled_outside_the_enum() -> None:
    values = {reason.value for reason in Reason}
    spelled = set()
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if text in values or text.startswith("invalid_exact_svm"):
                    spelled.add(f"{path.relative_to(ROOT)}:{node.lineno}: {text!r}")
    assert spelled == set(), "use reasons.<NAME> (a Reason member), not the string"
