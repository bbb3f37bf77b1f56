"""The payer's transactions executed by a real Solana runtime (LiteSVM, in process)."""

from __future__ import annotations

import pytest
from payer_ledger import INITIAL_BALANCE, InProcessChain
from solders.transaction_metadata import FailedTransactionMetadata

from sandbox.payer import build_payment
from sandbox.payer import mutations as m
from sandbox.protocol import TOKEN_2022_PROGRAM_ID


@pytest.mark.parametrize("token_program", ["token", "token-2022"])
@pytest.mark.parametrize("version", [1, 2])
def test_payment_moves_exactly_the_amount_asked(token_program: str, version: int) -> None:
    ledger = (
        InProcessChain(TOKEN_2022_PROGRAM_ID) if token_program == "token-2022" else InProcessChain()
    )
    amount = 12_345
    requirements = ledger.requirements_v1(amount) if version == 1 else ledger.requirements(amount)
    payment = build_payment(requirements, ledger.owner, ledger.mint_info, ledger.blockhash)
    fee_payer_lamports = ledger.svm.get_balance(ledger.fee_payer.pubkey())

    result = ledger.settle(payment.transaction)

    assert not isinstance(result, FailedTransactionMetadata), result
    assert ledger.balance(ledger.owner.pubkey()) == INITIAL_BALANCE - amount
    assert ledger.balance(ledger.pay_to) == amount
    # the fee payer paid the fee; the owner needed no SOL at all
    assert ledger.svm.get_balance(ledger.fee_payer.pubkey()) < fee_payer_lamports
    assert any("Memo" in line for line in result.logs())


def test_unsigned_by_fee_payer_is_rejected_by_the_runtime(ledger: InProcessChain) -> None:
    payment = build_payment(ledger.requirements(), ledger.owner, ledger.mint_info, ledger.blockhash)
    result = ledger.svm.send_transaction(payment.transaction)
    assert isinstance(result, FailedTransactionMetadata)
    assert ledger.balance(ledger.pay_to) == 0


def test_mutations_fail_or_misbehave_on_chain(ledger: InProcessChain) -> None:
    """The broken payments really are broken when executed (or pay the wrong thing)."""
    args = (ledger.requirements(10_000), ledger.owner, ledger.mint_info, ledger.blockhash)
    for broken in (
        m.bad_signature(*args),
        m.bad_signature(*args, kind="wrong_key"),
        m.stale_blockhash(*args),
        m.wrong_recipient(*args),  # the random recipient has no token account
    ):
        assert isinstance(ledger.settle(broken.transaction), FailedTransactionMetadata), (
            broken.description
        )
    assert ledger.balance(ledger.pay_to) == 0
    # an underpayment executes fine: only a facilitator's check can catch it
    underpaid = m.wrong_amount(*args)
    assert not isinstance(ledger.settle(underpaid.transaction), FailedTransactionMetadata)
    assert ledger.balance(ledger.pay_to) == 9_999


def test_fee_payer_in_memo_would_spend_the_fee_payers_signature(ledger: InProcessChain) -> None:
    """Why facilitators must check: once fee-payer-signed, this executes."""
    args = (ledger.requirements(), ledger.owner, ledger.mint_info, ledger.blockhash)
    sneaky = m.fee_payer_in_instruction(*args)
    assert not isinstance(ledger.settle(sneaky.transaction), FailedTransactionMetadata)
