"""One writer thread for a SQLite connection: whatever is queued commits in one transaction
(group commit), so the event loop never waits on the disk and N concurrent writes cost one
commit, not N.

    writer = GroupCommitWriter(db, name="payment-record-writer")
    rows = await writer.write(sql, params, durable=True)   # fsynced (synchronous=FULL) first
    rows = await writer.write(sql, params)                 # in the WAL (synchronous=NORMAL)
    writer.post(sql, params)                               # queued; nobody waits for it

`durable` is per batch: a batch holding one durable write is fsynced whole. `maintenance` runs
inside every `maintenance_every`-th batch (pruning old rows). The connection must have been
opened with `check_same_thread=False`; after the first write only the writer thread uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["GroupCommitWriter"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Write:
    sql: str
    params: tuple
    durable: bool  # fsync before the caller goes on
    done: asyncio.Future | None  # None: posted, nobody waits (a failure is logged)
    loop: asyncio.AbstractEventLoop | None


class GroupCommitWriter:
    def __init__(
        self,
        db: sqlite3.Connection,
        *,
        name: str,
        maintenance: Callable[[sqlite3.Connection], None] | None = None,
        maintenance_every: int = 1000,
        post_delay: float = 0.05,
    ) -> None:
        self.db = db
        self.name = name
        # A batch of posted writes only waits this long for more: one commit for many.
        self.post_delay = post_delay
        self._maintenance = maintenance
        self._maintenance_every = maintenance_every
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.closed = False

    async def write(self, sql: str, params: tuple, *, durable: bool = False) -> int:
        """Run one statement in the next batch; its rowcount once the batch committed."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._put(_Write(sql, params, durable, done, loop))
        return await done

    def post(self, sql: str, params: tuple) -> None:
        """Queue one statement and go on: it commits with the next batch, in order (a later
        awaited write proves it committed), and close() commits it too. No wake-up of the
        event loop when it is done: a failure is logged."""
        self._put(_Write(sql, params, False, None, None))

    def _put(self, write: _Write) -> None:
        if self.closed:
            raise RuntimeError(f"{self.name}: closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        self._queue.put(write)

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
            # Nobody waits on posted writes: gather more for a while (until an awaited write
            # or the stop comes), so that they share a commit instead of paying one each.
            deadline = time.monotonic() + self.post_delay if first.done is None else 0.0
            while True:
                left = deadline - time.monotonic()
                try:
                    more = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
                if more.done is not None:
                    deadline = 0.0  # someone waits: commit what is here at once
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
            if write.done is None:
                if isinstance(result, BaseException):
                    log.error("%s: a posted write failed: %s (%s)", self.name, result, write.sql)
                continue
            with contextlib.suppress(RuntimeError):  # its loop closed meanwhile: nobody waits
                write.loop.call_soon_threadsafe(_resolve, write.done, result)


def _resolve(done: asyncio.Future, result: int | BaseException) -> None:
    if done.cancelled():
        return
    if isinstance(result, BaseException):
        done.set_exception(result)
    else:
        done.set_result(result)
