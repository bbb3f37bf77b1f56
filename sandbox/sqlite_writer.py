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
import collections
import contextlib
import logging
import sqlite3
import threading
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
        # The queue, in order, and two signals: `_wake` when there is something to do (the
        # first write of a batch), `_urgent` when somebody waits (an awaited write, the stop).
        # Posted writes after the first wake nobody: the batch collects them for free.
        self._items: collections.deque[_Write | None] = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._urgent = threading.Event()
        self._thread: threading.Thread | None = None
        self.closed = False
        self.died: BaseException | None = None  # what stopped the thread, if not close()
        self._inflight: list[_Write] = []  # the batch being committed (the thread's own)

    async def write(self, sql: str, params: tuple, *, durable: bool = False) -> int:
        """Run one statement in the next batch; its rowcount once the batch committed."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._put(_Write(sql, params, durable, done, loop))
        return await done

    def post(self, sql: str, params: tuple) -> None:
        """Queue one statement and go on: it commits with the next batch, in order (a later
        awaited write proves it committed), within `post_delay` at the latest, and close()
        commits it too. Nothing wakes when it is done: a failure is logged."""
        self._put(_Write(sql, params, False, None, None))

    def _put(self, write: _Write | None) -> None:
        if write is not None and self.died is not None:
            raise RuntimeError(f"{self.name}: the writer thread stopped: {self.died!r}")
        if write is not None and self.closed:
            raise RuntimeError(f"{self.name}: closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        with self._lock:
            self._items.append(write)
            if write is None or write.done is not None:
                self._urgent.set()
                self._wake.set()
            elif len(self._items) == 1:
                self._wake.set()

    def close(self) -> None:
        """Commit what is queued, then stop the thread (the connection stays open)."""
        if self.closed:
            return
        self.closed = True
        if self._thread is not None:
            self._put(None)
            self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # a bug of ours: nobody may wait forever on a dead thread
            log.exception("%s: the writer thread stopped", self.name)
            with self._lock:
                self.died = exc
                left = [*self._inflight, *(w for w in self._items if w is not None)]
                self._items.clear()
            error = RuntimeError(f"{self.name}: the writer thread stopped: {exc!r}")
            for write in left:
                if write.done is not None:
                    with contextlib.suppress(RuntimeError):
                        write.loop.call_soon_threadsafe(_resolve, write.done, error)

    def _loop(self) -> None:
        batches = 0
        while True:
            self._wake.wait()
            # Only posted writes so far: let more gather, unless somebody starts waiting.
            self._urgent.wait(self.post_delay)
            with self._lock:
                batch = list(self._items)
                self._items.clear()
                self._wake.clear()
                self._urgent.clear()
            stop = None in batch
            writes = [write for write in batch if write is not None]
            if writes:
                batches += 1
                self._inflight = writes
                self._commit(writes, maintain=batches % self._maintenance_every == 0)
                self._inflight = []
            if stop:
                return

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
        except Exception as exc:  # sqlite3.Error, or a value it cannot bind (an int past 64 bits)
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
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
