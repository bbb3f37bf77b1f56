"""Settlement recovery in process, on a FakeChain: no chain process, no clock, no sleeping.

Each test drives one recovery rule of settlement.py (or ledger.py) and fails when it is removed:
sent but never landed, landed with an error, blockhash expired before landing (and landed just as
it expired), confirmed late, restart with a pending row. test_recovery.py proves the same
stories against a real chain and a real facilitator process.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson
import pytest
from facilitator_builders import Parties, body, instructions, requirements, sign
from fake_chain import FakeChain, signature_and_blockhash
from solders.hash import Hash
from solders.message import to_bytes_versioned

from sandbox.facilitator.answers import Answers
from sandbox.facilitator.ledger import FAILED, PENDING
from sandbox.facilitator.results import FAILURE, SUCCESS
from sandbox.facilitator.results import PENDING as PENDING_OUTCOME
from sandbox.facilitator.service import Facilitator
from sandbox.facilitator.settings import Settings
from sandbox.protocol import parse_facilitator_request, reasons
from sandbox.protocol.exact_svm.transaction import payment_identity

AMOUNT = 10_000


@dataclass
class Payment:
    request: object
    blockhash: str
    message_hash: bytes


def payment(p: Parties, memo_text: str = "nonce-1", blockhash: Hash | None = None) -> Payment:
    blockhash = blockhash or Hash.new_unique()
    tx = sign(p, instructions(p, AMOUNT, memo_text), blockhash)
    raw = orjson.dumps(body(tx, requirements(p, AMOUNT)))
    identity = payment_identity(to_bytes_versioned(tx.message))
    return Payment(parse_facilitator_request(raw), str(blockhash), identity)


@pytest.fixture
def p() -> Parties:
    return Parties()


@pytest.fixture
def chain() -> FakeChain:
    return FakeChain()


@pytest.fixture
async def start(tmp_path, p):
    """start(chain) -> a started Facilitator on that chain, sharing one ledger file per test."""
    running: list[Facilitator] = []

    async def _start(chain: FakeChain) -> Facilitator:
        settings = Settings(
            rpc_url="http://fake.invalid:1",
            fee_payers=(p.fee_payer,),
            ledger_path=tmp_path / "ledger.sqlite3",
        )
        fac = Facilitator(settings, chain)
        await fac.start()
        await fac.wait_ready()
        running.append(fac)
        return fac

    yield _start
    for fac in running:
        if fac.ledger._db is not None:
            await fac.stop()


def wire(fac: Facilitator, pay: Payment, result) -> dict:
    return Answers(fac.metrics).settle(pay.request, result)


def sent_signature(chain: FakeChain, index: int = 0) -> str:
    return signature_and_blockhash(chain.sent[index])[0]


async def test_sent_but_never_landed_is_pending_then_the_same_bytes_are_sent_again(start, chain, p):
    chain.auto_land = False
    fac = await start(chain)
    pay = payment(p)
    first = await fac.settle(pay.request)
    assert first.outcome == PENDING_OUTCOME
    assert first.transaction == sent_signature(chain)
    answer = wire(fac, pay, first)
    assert answer["success"] is False and answer["errorReason"] == reasons.SETTLEMENT_PENDING
    assert answer["transaction"] == first.transaction and answer["payer"] == str(p.client.pubkey())
    assert fac.ledger.by_hash(pay.message_hash).state == PENDING
    # While pending, the same nonce in another transaction is a replay.
    replay = await fac.verify(payment(p).request)
    assert replay.reason == reasons.DUPLICATE_SETTLEMENT
    chain.drop()  # it never landed
    chain.auto_land = True
    resolved = await fac.settle(pay.request)
    assert resolved.outcome == SUCCESS and resolved.transaction == first.transaction
    assert chain.sent == [chain.sent[0]] * 2  # the identical bytes, never a new transfer
    again = await fac.settle(pay.request)
    assert again.reason == reasons.DUPLICATE_SETTLEMENT and again.transaction == first.transaction
    assert len(chain.sent) == 2


async def test_landed_with_an_error_is_failed_with_its_signature_and_frees_the_nonce(
    start, chain, p
):
    chain.landing_err = {"InstructionError": [2, {"Custom": 1}]}
    fac = await start(chain)
    pay = payment(p)
    failed = await fac.settle(pay.request)
    assert failed.outcome == FAILURE and failed.reason == reasons.TRANSACTION_FAILED
    assert "landed with an error" in failed.message
    assert failed.transaction == sent_signature(chain)  # it landed: the fee was paid
    assert fac.ledger.by_hash(pay.message_hash).state == FAILED
    again = await fac.settle(pay.request)
    assert again.reason == reasons.TRANSACTION_FAILED and len(chain.sent) == 1
    # Nothing moved, so the client may pay again with the same nonce, once its cool-down
    # (the fee payer paid for that failure) is over.
    chain.landing_err = None
    retry = payment(p)
    assert (await fac.settle(retry.request)).reason == reasons.PAYER_TEMPORARILY_REFUSED
    clock = fac.cooldown.clock
    fac.cooldown.clock = lambda: clock() + fac.settings.payer_cooldown_s
    assert (await fac.settle(retry.request)).outcome == SUCCESS


async def test_blockhash_expired_before_landing_fails_without_a_signature_and_frees_the_nonce(
    start, chain, p
):
    chain.auto_land = False
    fac = await start(chain)
    pay = payment(p)
    assert (await fac.settle(pay.request)).outcome == PENDING_OUTCOME
    chain.drop()
    chain.expire(pay.blockhash)
    failed = await fac.settle(pay.request)
    assert failed.outcome == FAILURE and failed.reason == reasons.TRANSACTION_FAILED
    assert "never landed" in failed.message
    assert failed.transaction == ""  # nothing was charged
    assert len(chain.sent) == 1
    chain.auto_land = True
    assert (await fac.settle(payment(p).request)).outcome == SUCCESS


async def test_landed_just_as_its_blockhash_expired_is_settled_not_failed(start, chain, p):
    chain.auto_land = False
    fac = await start(chain)
    pay = payment(p)
    first = await fac.settle(pay.request)
    assert first.outcome == PENDING_OUTCOME

    def land_then_expire(blockhash: str) -> None:
        chain.land()
        chain.expire(blockhash)

    chain.during_blockhash_check = land_then_expire
    resolved = await fac.settle(pay.request)
    assert resolved.outcome == SUCCESS and resolved.transaction == first.transaction
    assert len(chain.sent) == 1


async def test_confirmed_late_stays_pending_until_the_commitment_then_settles(start, chain, p):
    chain.auto_land = False
    chain.during_wait = lambda sig: (
        sig in chain.in_flight and chain.land(sig, confirmation="processed")
    )
    fac = await start(chain)
    pay = payment(p)
    first = await fac.settle(pay.request)
    assert first.outcome == PENDING_OUTCOME  # processed only: not confirmed within the timeout
    still = await fac.settle(pay.request)
    assert still.outcome == PENDING_OUTCOME and still.transaction == first.transaction
    chain.confirm(first.transaction)
    resolved = await fac.settle(pay.request)
    assert resolved.outcome == SUCCESS and resolved.transaction == first.transaction
    assert len(chain.sent) == 1  # resolved from its status, never sent again


class Crash(Exception):
    """The facilitator process dies here."""


async def test_restart_with_a_pending_row_resolves_it_without_a_second_transfer(start, chain, p):
    chain.auto_land = False
    first = await start(chain)
    pay = payment(p)

    def crash(_signature: str) -> None:
        raise Crash

    chain.during_wait = crash  # sent, then the process dies before it learns the outcome
    with pytest.raises(Crash):
        await first.settle(pay.request)
    await first.stop()  # the row on disk still says `sending`
    chain.during_wait = None
    chain.land()  # it landed while no facilitator ran
    second = await start(chain)
    assert second.ledger.by_hash(pay.message_hash).state == PENDING
    resolved = await second.settle(pay.request)
    assert resolved.outcome == SUCCESS
    assert resolved.transaction == sent_signature(chain) and len(chain.sent) == 1
    replay = await second.settle(payment(p).request)  # same nonce, another transaction
    assert replay.reason == reasons.DUPLICATE_SETTLEMENT and "nonce" in replay.message


def test_the_fake_chain_reads_what_the_facilitator_sends(p):
    tx = sign(p, instructions(p, AMOUNT), Hash.default())
    wire_tx = base64.b64encode(bytes(tx)).decode()
    assert signature_and_blockhash(wire_tx) == (str(tx.signatures[0]), str(Hash.default()))
