"""One writer thread for a SQLite connection: whatever is queued commits in one transaction
(group commit), so the event loop never waits on the disk and N concurrent writes cost one
commit, not N.

    writer = GroupCommitWriter(db, name="payment-record-writer")
    rows = await writer.write(sql, params, durable=True)   # fsynced (synchronous=FULL) first
    rows = await writer.write(sql, params)                 # in the WAL (synchronous=NORMAL)

`durable` is per batch: a batch holding one durable write is fsynced whole. `maintenance` runs
inside every `maintenance_every`-th batch (pruning old rows). The connection must have been
opened with `check_same_thread=False`; after the first write only the writer thread uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["GroupCommitWriter"]


@dataclass(slots=True)
class _Write:
    sql: str
    params: tuple
    durable: bool  # fsync before the caller goes on
    done: asyncio.Future
    loop: asyncio.AbstractEventLoop


class GroupCommitWriter:
    def __init__(
        self,
        db: sqlite3.Connection,
        *,
        name: str,
        maintenance: Callable[[sqlite3.Connection], None] | None = None,
        maintenance_every: int = 1000,
    ) -> None:
        self.db = db
        self.name = name
        self._maintenance = maintenance
        self._maintenance_every = maintenance_every
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.closed = False

    async def write(self, sql: str, params: tuple, *, durable: bool = False) -> int:
        """Run one statement in the next batch; its rowcount once the batch committed."""
        if self.closed:
            raise RuntimeError(f"{self.name}: closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._queue.put(_Write(sql, params, durable, done, loop))
        return await done

    def close(self) -> None:
        """Commit what is queued, then stop the thread (the connection stays open)."""
        if self.closed:
            return
        self.closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)

    def _run(self) -> None:
        batches = 0
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
            batches += 1
            self._commit(batch, maintain=batches % self._maintenance_every == 0)

    def _commit(self, batch: list[_Write], *, maintain: bool) -> None:
        db = self.db
        results: list[int | BaseException] = []
        try:
            durable = any(write.durable for write in batch)
            db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            db.execute("BEGIN IMMEDIATE")
            for write in batch:
                results.append(db.execute(write.sql, write.params).rowcount)
            if maintain and self._maintenance is not None:
                self._maintenance(db)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            results = [exc] * len(batch)
        for write, result in zip(batch, results, strict=True):
            with contextlib.suppress(RuntimeError):  # its loop closed meanwhile: nobody waits
                write.loop.call_soon_threadsafe(_resolve, write.done, result)


def _resolve(done: asyncio.Future, result: int | BaseException) -> None:
    if done.cancelled():
        return
    if isinstance(result, BaseException):
        done.set_exception(result)
    else:
        done.set_result(result)
