"""The settlement ledger on its own: claims, persistence, restart, nonce release."""

from __future__ import annotations

import asyncio
import hashlib

from sandbox.facilitator.ledger import FAILED, PENDING, SENDING, SETTLED, Ledger, LedgerRow


def row(n: int, nonce: bytes | None = b"nonce", state: str = SENDING) -> LedgerRow:
    return LedgerRow(
        message_hash=hashlib.sha256(str(n).encode()).digest(),
        nonce_key=nonce,
        signature=f"sig{n}",
        state=state,
        payer="payer",
        amount="10",
        network="solana:x",
        transaction_b64="AA==",
        blockhash="hash",
    )


async def test_only_the_first_claim_wins_and_survives_a_restart(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path).open()
    first = row(1)
    assert ledger.reserve(first) is None
    assert ledger.reserve(row(1)) is first  # same message
    assert ledger.reserve(row(2)) is first  # same nonce, another message: a replay
    assert ledger.reserve(row(3, nonce=None)) is None
    await ledger.persist(first)
    await ledger.set_state(first, SETTLED)
    ledger.close()

    again = Ledger(path).open()
    assert again.by_hash(first.message_hash).state == SETTLED
    assert again.by_nonce(b"nonce").signature == "sig1"
    assert again.by_hash(row(3).message_hash) is None  # never persisted
    again.close()


async def test_sending_rows_come_back_pending(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path).open()
    claimed = row(1)
    ledger.reserve(claimed)
    await ledger.persist(claimed)
    ledger.close()  # as if the process died while waiting for the chain
    again = Ledger(path).open()
    assert again.by_hash(claimed.message_hash).state == PENDING
    again.close()


async def test_a_failure_releases_the_nonce(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite3").open()
    failed = row(1)
    ledger.reserve(failed)
    await ledger.set_state(failed, FAILED, "expired")
    assert ledger.by_nonce(b"nonce") is None
    assert ledger.reserve(row(2)) is None
    assert ledger.counts() == {SENDING: 1, PENDING: 0, SETTLED: 0, FAILED: 1}
    ledger.close()


async def test_writes_do_not_block_the_event_loop(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite3").open()
    rows = [row(n, nonce=None) for n in range(200)]
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    for r in rows:
        ledger.reserve(r)
    await asyncio.gather(*(ledger.persist(r) for r in rows))
    task.cancel()
    assert ticks > 10  # the loop kept running while the thread wrote
    assert len(ledger) == 200
    ledger.close()
