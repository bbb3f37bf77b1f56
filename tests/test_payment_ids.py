"""The payment-identifier store (sandbox/payment_ids.py) in process: claims, waits, bounds, disk."""

from __future__ import annotations

import asyncio
import sqlite3

from sandbox.payment_ids import PaymentIdStore
from sandbox.sqlite_writer import GroupCommitWriter


async def test_claims_new_then_replay_then_conflict() -> None:
    store = PaymentIdStore()
    assert (await store.claim("k", "fp")).kind == "new"
    await store.finish("k", "fp", b"answer")
    assert await store.claim("k", "fp") == type(await store.claim("k", "fp"))("replay", b"answer")
    assert (await store.claim("k", "other")).kind == "conflict"


async def test_a_waiter_gives_up_after_wait_seconds_with_busy() -> None:
    store = PaymentIdStore(wait_seconds=0.05)
    assert (await store.claim("k", "fp")).kind == "new"
    assert (await store.claim("k", "fp")).kind == "busy"  # the first never finishes


async def test_a_waiter_takes_over_when_the_first_keeps_no_answer() -> None:
    store = PaymentIdStore()
    assert (await store.claim("k", "fp")).kind == "new"
    waiter = asyncio.create_task(store.claim("k", "fp"))
    await asyncio.sleep(0)
    assert not waiter.done()
    await store.finish("k", "fp", None, keep=True)  # outcome unknown: processed again
    assert (await waiter).kind == "new"
    assert (await store.claim("k", "other")).kind == "conflict"  # still bound meanwhile


async def test_memory_is_bounded_but_never_drops_one_in_flight() -> None:
    store = PaymentIdStore(max_entries=2)
    for key in ("a", "b", "c"):
        assert (await store.claim(key, "fp")).kind == "new"
    assert len(store) == 3  # all three in flight
    for key in ("a", "b", "c"):
        await store.finish(key, "fp", b"x")
    assert (await store.claim("d", "fp")).kind == "new"
    assert len(store) == 2 and (await store.claim("a", "fp")).kind == "new"  # "a" left memory


async def test_answers_and_kept_bindings_outlive_a_restart(tmp_path) -> None:
    path = tmp_path / "ids.sqlite3"
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer = GroupCommitWriter(db, name="test-writer")
    store = PaymentIdStore(db, writer)
    await store.claim("kept", "fp1")
    await store.claim("bound", "fp2")
    await store.finish("kept", "fp1", b"the answer")
    await store.claim("freed", "fp3")
    await store.finish("freed", "fp3", None)
    await store.finish("bound", "fp2", None, keep=True)
    writer.close()
    db.close()

    again = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reopened = PaymentIdStore(again, GroupCommitWriter(again, name="test-writer-2"))
    assert (await reopened.claim("kept", "fp1")).answer == b"the answer"
    assert (await reopened.claim("bound", "other")).kind == "conflict"
    assert (await reopened.claim("freed", "other")).kind == "new"


def _rows(path) -> list[tuple]:
    other = sqlite3.connect(path)  # another connection: only what was committed
    try:
        return other.execute("SELECT key, answer FROM payment_ids ORDER BY key").fetchall()
    finally:
        other.close()


async def test_an_answer_is_in_the_file_when_finish_returns(tmp_path) -> None:
    """The server's store waits for its row: a crash right after the answer keeps it."""
    path = tmp_path / "ids.sqlite3"
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer = GroupCommitWriter(db, name="test-writer", post_delay=30.0)
    store = PaymentIdStore(db, writer)
    await store.claim("kept", "fp")
    assert _rows(path) == []  # the binding is posted: it waits for a write somebody awaits
    await store.finish("kept", "fp", b"the answer")
    assert _rows(path) == [("kept", b"the answer")]
    writer.close()
    db.close()


async def test_posted_rows_share_the_next_commit_or_the_close(tmp_path) -> None:
    """The facilitator's store posts its rows: they wait (post_delay) for company, go at once
    with a write somebody awaits, and close() commits what is left."""
    path = tmp_path / "ids.sqlite3"
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer = GroupCommitWriter(db, name="test-writer", post_delay=30.0)
    store = PaymentIdStore(db, writer, wait_for_writes=False)
    await store.claim("a", "fp")
    await store.finish("a", "fp", b"A")
    await store.claim("b", "fp")
    await store.finish("b", "fp", b"B")
    assert _rows(path) == []  # posted: waiting for company (30 s here)
    await writer.write("INSERT INTO payment_ids VALUES ('c', 'fp', 'C', 0)", ())
    assert _rows(path) == [("a", b"A"), ("b", b"B"), ("c", "C")]  # one commit, no 30 s wait
    await store.claim("d", "fp")
    await store.finish("d", "fp", b"D")
    writer.close()
    assert ("d", b"D") in _rows(path)
    db.close()


async def test_a_binding_shares_the_next_awaited_commit_and_outlives_a_crash(tmp_path) -> None:
    """On the server the next awaited write after a claim is the durable pending record, before
    /settle: from then on the id is bound in the file, so a crash mid-payment keeps it."""
    path = tmp_path / "ids.sqlite3"
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer = GroupCommitWriter(db, name="test-writer", post_delay=30.0)
    store = PaymentIdStore(db, writer)
    await store.claim("in-flight", "fp1")
    db.execute("CREATE TABLE IF NOT EXISTS other (x)")
    await writer.write("INSERT INTO other VALUES (1)", ())  # the pending record, say
    assert _rows(path) == [("in-flight", None)]
    # a crash now: a new process reads the binding
    again = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reopened = PaymentIdStore(again, GroupCommitWriter(again, name="test-writer-2"))
    assert (await reopened.claim("in-flight", "another payload")).kind == "conflict"
    assert (await reopened.claim("in-flight", "fp1")).kind == "new"  # processed again
    writer.close()


async def test_posted_rows_alone_commit_within_the_post_delay(tmp_path) -> None:
    """No awaited write, no close: posted rows still reach the file (one wake-up per batch)."""
    path = tmp_path / "ids.sqlite3"
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer = GroupCommitWriter(db, name="test-writer", post_delay=0.05)
    store = PaymentIdStore(db, writer, wait_for_writes=False)
    for key in ("a", "b", "c"):
        await store.claim(key, "fp")
        await store.finish(key, "fp", key.encode())
    deadline = asyncio.get_running_loop().time() + 10
    while len(_rows(path)) < 3:  # a condition, not a fixed sleep
        assert asyncio.get_running_loop().time() < deadline, _rows(path)
        await asyncio.sleep(0.02)
    assert _rows(path) == [("a", b"a"), ("b", b"b"), ("c", b"c")]
    writer.close()
    db.close()
