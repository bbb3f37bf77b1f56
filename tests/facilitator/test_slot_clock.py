"""With 400 ms slots, settle answers at the configured commitment: processed, confirmed, finalized.

Settles here start right after a block closed (`aligned_settle`), so a transaction waits a whole
slot (~400 ms) for confirmed and one more for finalized; a facilitator that answered at the wrong
commitment shows it both in its latency and in the status the chain reports right after.
"""

from __future__ import annotations

import statistics
import time

import pytest
from facilitator_stack import Funded, RunningFacilitator, start_facilitator

from sandbox.chain.testing import RunningChain, start_chain
from sandbox.processes import free_port
from sandbox.protocol import reasons

pytestmark = pytest.mark.timeout(120)

AMOUNT = 10_000  # balances are read at "confirmed": finalized comes one block after the answer


@pytest.fixture(scope="module")
def chain400():
    with start_chain(slot_ms=400) as chain:
        yield chain


@pytest.fixture(scope="module")
def funded400(chain400) -> Funded:
    return Funded(chain400)


@pytest.fixture(scope="module")
def confirmed_fac(chain400, funded400):
    with start_facilitator(chain400, [funded400.p.fee_payer]) as fac:
        yield fac


def status_of(chain: RunningChain, signature: str) -> str | None:
    entry = chain.rpc("getSignatureStatuses", [signature])["value"][0]
    return entry and entry["confirmationStatus"]


def wait_for_block_close(chain: RunningChain) -> None:
    """Return just after a block closed, so the next one is a whole slot away."""
    slot = chain.rpc("getSlot", {"commitment": "processed"})
    deadline = time.monotonic() + 5
    while chain.rpc("getSlot", {"commitment": "processed"}) == slot:
        assert time.monotonic() < deadline, "no block closed in 5 s"
        time.sleep(0.003)


def aligned_settle(
    chain: RunningChain, fac: RunningFacilitator, funded: Funded
) -> tuple[dict, float, str | None]:
    """Settle a new payment just after a block closed: (receipt, seconds, status right after)."""
    payment = funded.payment(AMOUNT)
    wait_for_block_close(chain)
    started = time.perf_counter()
    receipt = fac.settle(payment)
    elapsed = time.perf_counter() - started
    assert receipt["success"] is True, receipt
    return receipt, elapsed, status_of(chain, receipt["transaction"])


def test_settle_waits_for_confirmed(chain400, funded400, confirmed_fac):
    assert confirmed_fac.get("/health").json()["pubsub"]["connected"] is True
    before = funded400.usdc(funded400.p.pay_to, "confirmed")
    _, elapsed, status = aligned_settle(chain400, confirmed_fac, funded400)
    assert status in ("confirmed", "finalized")
    assert 0.25 < elapsed < 3.0  # it waited for the block to close, and not much longer
    assert funded400.usdc(funded400.p.pay_to, "confirmed") == before + AMOUNT


def test_processed_answers_before_the_block_closes(chain400, funded400, confirmed_fac):
    with start_facilitator(chain400, [funded400.p.fee_payer], "--commitment", "processed") as fac:
        assert fac.get("/health").json()["commitment"] == "processed"
        processed = [aligned_settle(chain400, fac, funded400) for _ in range(3)]
    confirmed = [aligned_settle(chain400, confirmed_fac, funded400) for _ in range(3)]
    # The block closes ~400 ms after each aligned send: a processed answer comes well before.
    assert [s for _, _, s in processed].count("processed") >= 2, processed
    assert all(s in ("confirmed", "finalized") for _, _, s in confirmed), confirmed
    fast = statistics.median(e for _, e, _ in processed)
    slow = statistics.median(e for _, e, _ in confirmed)
    assert fast < slow / 2, (fast, slow)


def test_finalized_waits_for_finalized(chain400, funded400, confirmed_fac):
    with start_facilitator(chain400, [funded400.p.fee_payer], "--commitment", "finalized") as fac:
        finalized = [aligned_settle(chain400, fac, funded400) for _ in range(2)]
    confirmed = [aligned_settle(chain400, confirmed_fac, funded400) for _ in range(2)]
    assert [s for _, _, s in finalized] == ["finalized", "finalized"], finalized
    # Finalized is one closed block after confirmed (the chain's --finalize-slots 1).
    slowest_confirmed = max(e for _, e, _ in confirmed)
    assert min(e for _, e, _ in finalized) > slowest_confirmed + 0.15, (finalized, confirmed)


def test_without_pubsub_settles_by_polling(chain400, funded400):
    closed = f"ws://127.0.0.1:{free_port()}"  # nothing listens there
    keys = [funded400.p.fee_payer]
    with start_facilitator(chain400, keys, "--confirm-timeout", "5", ws_url=closed) as fac:
        pubsub = fac.get("/health").json()["pubsub"]
        assert pubsub == {"url": closed, "connected": False}
        polls = "facilitator_chain_call_seconds_count"
        before = fac.metric(polls, method="getSignatureStatuses")
        _, elapsed, status = aligned_settle(chain400, fac, funded400)
        assert status in ("confirmed", "finalized")
        assert 0.25 < elapsed < 2.0  # polled to the block's close, long before the timeout
        # One look right away, then polls until the block closed ~400 ms later.
        assert fac.metric(polls, method="getSignatureStatuses") - before >= 2
        assert fac.get("/health").json()["pubsub"]["connected"] is False


def test_timeout_answers_pending_and_a_retry_resolves_it(chain400, funded400):
    keys = [funded400.p.fee_payer]
    before = funded400.usdc(funded400.p.pay_to, "confirmed")
    with start_facilitator(chain400, keys, "--confirm-timeout", "0.05") as fac:
        late = funded400.payment(AMOUNT)
        # Sent right after a block closed, it cannot be confirmed within 50 ms (sent just before
        # a close, it could: that race made this test flaky).
        wait_for_block_close(chain400)
        receipt = fac.settle(late)
        assert receipt["errorReason"] == reasons.SETTLEMENT_PENDING, receipt
        deadline = time.monotonic() + 10
        while True:  # the block closes meanwhile
            (status,) = chain400.rpc(
                "getSignatureStatuses", [receipt["transaction"]], {"searchTransactionHistory": True}
            )["value"]
            if status and status.get("confirmationStatus") in ("confirmed", "finalized"):
                break
            assert time.monotonic() < deadline, "the settlement never confirmed"
            time.sleep(0.02)
        resolved = fac.settle(late)
        assert resolved["success"] is True
        assert resolved["transaction"] == receipt["transaction"]
        assert funded400.usdc(funded400.p.pay_to, "confirmed") == before + AMOUNT
