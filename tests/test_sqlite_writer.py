"""GroupCommitWriter (sandbox/sqlite_writer.py): a write SQLite cannot take fails its caller and
its batch, never the writer thread, so every later write still commits; and should the thread
stop all the same, waiting writes fail at once instead of hanging the caller."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from sandbox.sqlite_writer import GroupCommitWriter


@pytest.fixture
def writer(tmp_path):
    db = sqlite3.connect(tmp_path / "w.sqlite3", isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE t (n INTEGER)")
    writer = GroupCommitWriter(db, name="test-writer")
    yield writer, db
    writer.close()


async def test_a_value_sqlite_cannot_bind_fails_its_write_not_the_writer(writer) -> None:
    w, db = writer
    with pytest.raises(OverflowError):
        await asyncio.wait_for(w.write("INSERT INTO t VALUES (?)", (2**70,)), timeout=10)
    assert await asyncio.wait_for(w.write("INSERT INTO t VALUES (?)", (1,)), timeout=10) == 1
    w.close()
    assert db.execute("SELECT n FROM t").fetchall() == [(1,)]


async def test_waiting_writes_fail_at_once_when_the_thread_stops(writer) -> None:
    w, _db = writer

    def broken_maintenance(_db) -> None:
        raise SystemExit("gone")  # not an Exception: the loop itself stops

    w._maintenance, w._maintenance_every = broken_maintenance, 1
    with pytest.raises(RuntimeError, match="the writer thread stopped"):
        await asyncio.wait_for(w.write("INSERT INTO t VALUES (?)", (1,)), timeout=10)
    with pytest.raises(RuntimeError, match="the writer thread stopped"):
        await asyncio.wait_for(w.write("INSERT INTO t VALUES (?)", (2,)), timeout=10)
