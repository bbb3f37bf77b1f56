"""Settlements that do not finish on the first try: dropped, expired, across a restart."""

from __future__ import annotations

import pytest
from facilitator_builders import (
    body,
    compute_limit,
    compute_price,
    memo,
    requirements,
    sign,
    transfer,
)
from facilitator_stack import start_facilitator

from sandbox.protocol import reasons

AMOUNT = 10_000


def test_dropped_transaction_is_pending_then_resolves_without_a_second_transfer(
    fac, funded, chain0
):
    p = funded.p
    chain0.rpc("sandbox_setFaults", {"dropRate": 1.0})
    payment = funded.payment(AMOUNT, memo_text="dropped-1")
    receipt = fac.settle(payment)
    assert receipt["success"] is False
    assert receipt["errorReason"] == reasons.SETTLEMENT_PENDING
    signature = receipt["transaction"]
    assert signature  # the pending answer names the transaction
    assert funded.usdc(p.pay_to) == 0
    # While pending, the same nonce in another transaction is still a replay.
    assert fac.verify(funded.payment(AMOUNT, memo_text="dropped-1"))["invalidReason"] == (
        reasons.DUPLICATE_SETTLEMENT
    )
    chain0.rpc("sandbox_setFaults", {"dropRate": 0.0})
    resolved = fac.settle(payment)
    assert resolved["success"] is True, resolved
    assert resolved["transaction"] == signature  # the same bytes, re-broadcast
    assert funded.usdc(p.pay_to) == AMOUNT
    assert fac.settle(payment)["errorReason"] == reasons.DUPLICATE_SETTLEMENT
    assert funded.usdc(p.pay_to) == AMOUNT


def test_pending_that_landed_meanwhile_resolves_from_its_status(fac, funded):
    p = funded.p
    fac.set_faults({"endpoint": "settle", "kind": "pending"})
    payment = funded.payment(AMOUNT)
    receipt = fac.settle(payment)
    assert receipt["errorReason"] == reasons.SETTLEMENT_PENDING
    fac.set_faults()
    assert funded.usdc(p.pay_to) == AMOUNT  # it was sent; only the answer was early
    resolved = fac.settle(payment)
    assert resolved["success"] is True
    assert resolved["transaction"] == receipt["transaction"]


def test_pending_whose_blockhash_expired_fails_and_frees_the_nonce(fac, funded, chain0):
    p = funded.p
    chain0.rpc("sandbox_setFaults", {"dropRate": 1.0})
    payment = funded.payment(AMOUNT, memo_text="expiring")
    assert fac.settle(payment)["errorReason"] == reasons.SETTLEMENT_PENDING
    chain0.rpc("sandbox_setFaults", {"dropRate": 0.0})
    chain0.rpc("sandbox_expireBlockhashes")
    failed = fac.settle(payment)
    assert failed["errorReason"] == reasons.TRANSACTION_FAILED
    assert "never landed" in failed["errorMessage"]
    assert funded.usdc(p.pay_to) == 0
    # Nothing was charged, so the client may pay again with the same nonce.
    assert fac.settle(funded.payment(AMOUNT, memo_text="expiring"))["success"] is True
    assert funded.usdc(p.pay_to) == AMOUNT


@pytest.mark.timeout(120)
def test_replay_and_nonce_reuse_rejected_after_restart(chain0, funded, fee_payer_party, tmp_path):
    ledger = tmp_path / "ledger.sqlite3"
    keys = [fee_payer_party.p.fee_payer]
    payment = funded.payment(AMOUNT, memo_text="restart-nonce")
    with start_facilitator(chain0, keys, ledger=ledger) as first:
        assert first.settle(payment)["success"] is True
    with start_facilitator(chain0, keys, ledger=ledger) as second:
        assert second.settle(payment)["errorReason"] == reasons.DUPLICATE_SETTLEMENT
        assert second.verify(payment)["invalidReason"] == reasons.DUPLICATE_SETTLEMENT
        p = funded.p
        ixs = [compute_limit(), compute_price(7), transfer(p, AMOUNT), memo("restart-nonce")]
        reuse = body(sign(p, ixs, funded.blockhash()), requirements(p, AMOUNT))
        answer = second.settle(reuse)
        assert answer["errorReason"] == reasons.DUPLICATE_SETTLEMENT
        assert "nonce" in answer["errorMessage"]
        assert second.get("/health").json()["ledger"]["settled"] == 1
    assert funded.usdc(funded.p.pay_to) == AMOUNT
