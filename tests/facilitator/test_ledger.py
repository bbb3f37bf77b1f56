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


async def test_the_index_in_memory_is_bounded_and_a_lookup_beyond_it_reads_the_file(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path, memory_rows=3).open()
    rows = [row(n, nonce=f"nonce-{n}".encode()) for n in range(10)]
    for r in rows:
        assert ledger.reserve(r) is None
        await ledger.persist(r)
        await ledger.set_state(r, SETTLED if r.signature != "sig1" else FAILED, None)
    open_row = row(10, nonce=b"open")
    ledger.reserve(open_row)
    await ledger.persist(open_row)
    assert len(ledger) == 4  # the three most recent final rows and the one in flight
    oldest = ledger.by_hash(rows[0].message_hash)  # beyond the index: from the file
    assert oldest is not None and oldest.state == SETTLED and oldest.signature == "sig0"
    assert ledger.by_nonce(b"nonce-0").signature == "sig0"
    assert ledger.by_nonce(b"nonce-1") is None  # failed: its nonce is free again
    assert ledger.by_hash(rows[1].message_hash).state == FAILED
    assert ledger.reserve(row(0, nonce=None)).signature == "sig0"  # a claim sees the file too
    assert ledger.reserve(row(20, nonce=b"nonce-2")).signature == "sig2"  # a replayed nonce
    assert ledger.counts() == {SENDING: 1, PENDING: 0, SETTLED: 9, FAILED: 1}
    ledger.close()

    again = Ledger(path, memory_rows=3).open()  # a restart loads no more than that
    assert len(again) == 4
    assert again.by_hash(open_row.message_hash).state == PENDING  # in flight: always loaded
    assert [r.signature for r in again._final.values()] == ["sig7", "sig8", "sig9"]
    assert again.by_hash(rows[0].message_hash).signature == "sig0"
    assert again.by_nonce(b"nonce-5").signature == "sig5"
    assert again.counts() == {SENDING: 0, PENDING: 1, SETTLED: 9, FAILED: 1}
    again.close()


async def test_a_row_leaves_memory_only_once_its_final_state_is_on_disk(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite3", memory_rows=1).open()
    first, second = row(1, nonce=None), row(2, nonce=None)
    for r in (first, second):
        ledger.reserve(r)
        await ledger.persist(r)
    await ledger.set_state(first, PENDING, "not yet")  # not final: stays
    await ledger.set_state(second, SETTLED)
    assert ledger.by_hash(first.message_hash) is first
    await ledger.set_state(first, SETTLED)  # final now: the older one, second, leaves
    assert ledger.by_hash(first.message_hash) is first
    found = ledger.by_hash(second.message_hash)
    assert found is not second and found.state == SETTLED
    ledger.close()
