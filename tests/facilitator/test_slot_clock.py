"""With 400 ms slots, settle answers only once the transfer is confirmed (PubSub wait)."""

from __future__ import annotations

import time

import pytest
from facilitator_stack import Funded, start_facilitator

from sandbox.chain.testing import start_chain
from sandbox.protocol import reasons


@pytest.mark.timeout(120)
def test_settle_waits_for_confirmed_then_finalized_commitment():
    with start_chain(slot_ms=400) as chain:
        funded = Funded(chain)
        keys = [funded.p.fee_payer]
        with start_facilitator(chain, keys) as fac:
            assert fac.get("/health").json()["pubsub"]["connected"] is True
            payment = funded.payment(10_000)
            started = time.perf_counter()
            receipt = fac.settle(payment)
            elapsed = time.perf_counter() - started
            assert receipt["success"] is True
            status = chain.rpc("getSignatureStatuses", [receipt["transaction"]])["value"][0]
            assert status["confirmationStatus"] in ("confirmed", "finalized")
            assert elapsed < 3.0
        with start_facilitator(chain, keys, "--commitment", "finalized") as fac:
            receipt = fac.settle(funded.payment(10_000))
            assert receipt["success"] is True
            status = chain.rpc("getSignatureStatuses", [receipt["transaction"]])["value"][0]
            assert status["confirmationStatus"] == "finalized"
        with start_facilitator(chain, keys, "--confirm-timeout", "0.05") as fac:
            late = funded.payment(10_000)
            receipt = fac.settle(late)
            assert receipt["errorReason"] == reasons.SETTLEMENT_PENDING
            time.sleep(1.0)  # the block closes meanwhile
            resolved = fac.settle(late)
            assert resolved["success"] is True
            assert resolved["transaction"] == receipt["transaction"]
            assert funded.usdc(funded.p.pay_to) == 30_000
