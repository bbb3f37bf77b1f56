"""The fee payer's expected cost, as the scenarios check it (no stack needed)."""

from __future__ import annotations

import pytest
from solders.hash import Hash
from solders.keypair import Keypair

from sandbox.protocol.exact_svm.client import (
    compile_message,
    compute_limit_instruction,
    compute_price_instruction,
    memo_instruction,
)
from sandbox.scenario_runner import Balances, ScenarioFailed
from sandbox.scenario_runner.context import Context, max_fee

FEE_PAYER = Keypair().pubkey()


def message(*instructions):
    return compile_message(FEE_PAYER, list(instructions), Hash.default())


def test_the_fee_is_5000_a_signature_plus_the_priority_fee_rounded_up() -> None:
    memo = memo_instruction(b"nonce")
    assert max_fee(message(memo)) == 5000  # one signer, no priority fee
    # 20,000 units at 1 microlamport: 0.02 lamports, charged as 1
    assert (
        max_fee(message(compute_limit_instruction(20_000), compute_price_instruction(1), memo))
        == 5001
    )
    assert (
        max_fee(message(compute_limit_instruction(100_000), compute_price_instruction(5_000), memo))
        == 5000 + 500
    )
    # no limit instruction: 200,000 units for each other instruction
    assert max_fee(message(compute_price_instruction(1_000_000), memo)) == 5000 + 200_000


def balances(fee_payer_sol: int, fee_payer_usdc: int = 0) -> Balances:
    return Balances({"fee_payer": fee_payer_usdc}, {"fee_payer": fee_payer_sol})


class Tx:
    def __init__(self, msg) -> None:
        self.message = msg


@pytest.mark.parametrize(
    ("after", "ok"),
    [
        (balances(1_000_000 - 5001), True),  # one fee
        (balances(1_000_000), True),  # a chain that charged nothing
        (balances(1_000_000 - 2 * 5001), False),  # charged twice (a replay settled again)
        (balances(1_000_000 + 1), False),  # the fee payer was paid
        (balances(1_000_000 - 5001, fee_payer_usdc=-1), False),  # its USDC moved
    ],
)
def test_expect_fee_paid(after: Balances, ok: bool) -> None:
    tx = Tx(message(compute_limit_instruction(20_000), compute_price_instruction(1)))
    check = Context.__new__(Context).expect_fee_paid  # needs no targets
    if ok:
        check(balances(1_000_000), after, tx)
    else:
        with pytest.raises(ScenarioFailed):
            check(balances(1_000_000), after, tx)
