"""The fee payer cannot be drained, in process on a FakeChain (guard.py, settlement.py).

Each rule, alone: payments of one source token account are settled one at a time, the next
simulated after the one before landed (and refused for free when the money is gone); a payer
whose settlement still failed on chain is refused for the cool-down, then accepted again; the
compute unit price is capped at 50,000 microlamports by default (and /health says so); the fee
of a failed transaction is counted in /metrics. test_fee_payer_drain.py races 32 payments
against a real chain and a real facilitator process.
"""

from __future__ import annotations

import asyncio

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
)
from fake_chain import FakeChain
from solders.hash import Hash
from solders.keypair import Keypair

from sandbox.facilitator.cli import build_parser, settings_from_args
from sandbox.facilitator.guard import Cooldown, RentGuard, SourceQueue, fee_lamports
from sandbox.facilitator.results import FAILURE, SUCCESS
from sandbox.facilitator.service import Facilitator
from sandbox.facilitator.settings import Settings
from sandbox.protocol import parse_facilitator_request, reasons
from sandbox.protocol.programs import associated_token_address

AMOUNT = 10_000


def request(p: Parties, ixs=None, memo_text: str | None = None):
    tx = sign(p, ixs or instructions(p, AMOUNT, memo_text), Hash.new_unique())
    return parse_facilitator_request(orjson.dumps(body(tx, requirements(p, AMOUNT))))


def source(p: Parties) -> str:
    return str(associated_token_address(p.client.pubkey(), p.mint, p.program))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def p() -> Parties:
    return Parties()


@pytest.fixture
async def start(tmp_path, p):
    running: list[Facilitator] = []

    async def _start(chain: FakeChain, **settings) -> Facilitator:
        fac = Facilitator(
            Settings(
                rpc_url="http://fake.invalid:1",
                fee_payers=(p.fee_payer,),
                ledger_path=tmp_path / "ledger.sqlite3",
                **settings,
            ),
            chain,
        )
        await fac.start()
        await fac.wait_ready()
        running.append(fac)
        return fac

    yield _start
    for fac in running:
        await fac.stop()


async def test_one_source_is_settled_one_at_a_time_and_the_second_sees_the_balance_gone(start, p):
    chain = FakeChain()
    chain.token_balances[source(p)] = AMOUNT  # the price of one payment
    fac = await start(chain)
    first, second = await asyncio.gather(fac.settle(request(p)), fac.settle(request(p)))
    assert first.outcome == SUCCESS
    assert second.outcome == FAILURE and second.reason == reasons.INSUFFICIENT_FUNDS
    assert second.transaction == ""  # refused by its simulation: never sent, nothing paid
    assert len(chain.sent) == 1
    # The second simulation ran after the first was sent and landed, and saw what it left.
    assert chain.simulated == [(0, AMOUNT), (1, 0)]
    assert chain.token_balances[source(p)] == 0
    assert len(fac.settler.sources) == 0  # no turn left behind


async def test_other_sources_are_not_held_up(start, p):
    chain = FakeChain(auto_land=False)  # the first stays in flight: never seen, never landed
    fac = await start(chain)
    other = Parties(fee_payer=p.fee_payer)
    results = await asyncio.gather(fac.settle(request(p)), fac.settle(request(other)))
    assert [r.reason for r in results] == [reasons.SETTLEMENT_PENDING] * 2
    assert len(chain.sent) == 2


async def test_a_queued_twin_of_the_same_payment_is_a_duplicate_not_a_second_simulation(start, p):
    chain = FakeChain()
    fac = await start(chain)
    pay = request(p)
    first, twin = await asyncio.gather(fac.settle(pay), fac.settle(pay))
    assert first.outcome == SUCCESS
    assert twin.reason == reasons.DUPLICATE_SETTLEMENT
    assert len(chain.simulated) == 1 and len(chain.sent) == 1


async def test_a_payer_whose_settlement_failed_on_chain_is_refused_until_the_cooldown_ends(
    start, p
):
    chain = FakeChain()
    fac = await start(chain, payer_cooldown_s=30)
    clock = fac.cooldown.clock = Clock()
    # Its balance moved between simulation and landing (a transfer of its own elsewhere).
    chain.landing_err = {"InstructionError": [2, {"Custom": 1}]}
    failed = await fac.settle(request(p))
    assert failed.reason == reasons.TRANSACTION_FAILED and failed.transaction
    chain.landing_err = None
    calls = len(chain.calls)
    verified = await fac.verify(request(p))
    refused = await fac.settle(request(p))
    assert verified.reason == refused.reason == reasons.PAYER_TEMPORARILY_REFUSED
    assert "30.0 more seconds" in refused.message and refused.transaction == ""
    assert len(chain.calls) == calls  # refused without a simulation, nothing sent
    other = Parties(fee_payer=p.fee_payer)  # other payers are not concerned
    assert (await fac.settle(request(other))).outcome == SUCCESS
    clock.now += 29.9
    assert (await fac.settle(request(p))).reason == reasons.PAYER_TEMPORARILY_REFUSED
    clock.now += 0.2
    assert (await fac.verify(request(p))).reason is None
    assert (await fac.settle(request(p))).outcome == SUCCESS
    assert len(fac.cooldown) == 0


async def test_no_cooldown_when_switched_off(start, p):
    chain = FakeChain()
    chain.landing_err = {"InstructionError": [2, {"Custom": 1}]}
    fac = await start(chain, payer_cooldown_s=0)
    assert (await fac.settle(request(p))).reason == reasons.TRANSACTION_FAILED
    chain.landing_err = None
    assert (await fac.settle(request(p))).outcome == SUCCESS


def test_the_cooldown_prunes_expired_payers() -> None:
    clock = Clock()
    cooldown = Cooldown(1.0, clock)
    for n in range(2000):
        cooldown.strike(f"payer-{n}")
        clock.now += 0.01
    assert len(cooldown) < 1200  # the expired ones went


def test_the_rent_guard_never_funds_an_account_twice() -> None:
    rent = RentGuard(0)  # no per-minute limit
    assert rent.refusal("account-a") is None
    rent.funded("account-a")
    assert "already funded the rent of token account account-a" in rent.refusal("account-a")
    assert rent.refusal("account-b") is None
    assert len(rent) == 1


def test_the_rent_guard_funds_at_most_n_accounts_in_any_minute() -> None:
    clock = Clock()
    rent = RentGuard(2, clock)
    rent.funded("a")
    clock.now += 30
    rent.funded("b")
    assert "--max-created-accounts-per-minute 2" in rent.refusal("c")
    clock.now += 30.5  # a's minute is over, b's is not
    assert rent.refusal("c") is None
    rent.funded("c")
    assert rent.refusal("d") is not None


def test_the_cli_refuses_a_negative_account_limit(tmp_path) -> None:
    assert build_parser().parse_args([]).max_created_accounts_per_minute == 60
    keyfile = tmp_path / "fee-payer.json"
    keyfile.write_text(orjson.dumps(list(bytes(Keypair()))).decode())
    args = build_parser().parse_args(
        ["--max-created-accounts-per-minute", "-1", "--fee-payer-keypair", str(keyfile)]
    )
    with pytest.raises(ValueError, match="--max-created-accounts-per-minute must be at least 0"):
        settings_from_args(args)


async def test_the_source_queue_forgets_a_waiter_cancelled_in_line() -> None:
    queue = SourceQueue()
    turn = await queue.acquire("a")
    waiter = asyncio.ensure_future(queue.acquire("a"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    turn.release()
    turn.release()  # idempotent
    assert len(queue) == 0


async def test_the_compute_unit_price_is_capped_at_50000_and_health_reports_it(start, p):
    fac = await start(FakeChain())
    assert fac.settings.max_compute_unit_price == 50_000
    at_cap = [compute_limit(), compute_price(50_000), transfer(p, AMOUNT), memo()]
    above = [compute_limit(), compute_price(50_001), transfer(p, AMOUNT), memo()]
    assert (await fac.verify(request(p, at_cap))).reason is None
    refused = await fac.settle(request(p, above))
    assert refused.reason == reasons.SVM_COMPUTE_PRICE_TOO_HIGH
    status, health = await fac.health()
    assert status == 200 and health["maxComputeUnitPrice"] == 50_000
    assert health["payerCooldownSeconds"] == 30


def test_the_cli_defaults_and_refusals() -> None:
    args = build_parser().parse_args([])
    assert args.max_compute_unit_price == 50_000
    assert args.payer_cooldown_s == 30
    args = build_parser().parse_args(["--payer-cooldown-s", "-1"])
    args.fee_payer_keypair = []
    with pytest.raises(ValueError):
        settings_from_args(args)


async def test_the_fee_of_a_failed_transaction_is_counted_in_metrics(start, p):
    chain = FakeChain()
    chain.landing_err = {"InstructionError": [2, {"Custom": 1}]}
    fac = await start(chain)
    ixs = [compute_limit(200_000), compute_price(50_000), transfer(p, AMOUNT), memo()]
    pay = request(p, ixs)
    assert (await fac.settle(pay)).reason == reasons.TRANSACTION_FAILED
    expected = 2 * 5000 + 200_000 * 50_000 // 1_000_000  # two signatures + the priority fee
    tx = fac.verifier.check(pay).transaction
    assert fee_lamports(tx) == expected == 20_000
    text = fac.metrics.render().decode()
    fee_payer = str(p.fee_payer.pubkey())
    assert (
        f'facilitator_failed_transaction_lamports_total{{fee_payer="{fee_payer}"}} 20000.0' in text
    )
    assert f'facilitator_failed_transactions_total{{fee_payer="{fee_payer}"}} 1.0' in text
