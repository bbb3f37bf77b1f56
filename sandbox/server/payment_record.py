"""The paid server's own SQLite file: the payments it is settling and the payments it served.

One row per payment (its key, see PaymentTransaction.key):

    pending   a settlement this server started and has not seen finish; after a restart a resend
              of the payment is resumed (settled again, served once) instead of refused
    served    the content was (or is being) sent; never served again, restart or not

Writes go through one writer thread (sandbox/sqlite_writer.py), which commits whatever is queued
in one transaction (group commit) so that the event loop never waits on the disk:

    begin(key)        before /settle is sent: fsynced (synchronous=FULL) before it returns, so
                      neither a kill -9 nor a power cut can forget a settlement we started
    served(key)       before the content is sent: written to the WAL before it returns
                      (synchronous=NORMAL, no fsync): a kill -9 keeps it; a power cut within
                      the last moments before the next checkpoint can lose it, and that payment
                      could then be served a second time (never charged twice)
    pending(key, receipt), drop(key)   the same as served (an fsync buys nothing there: a lost
                      update leaves the row pending, which a resend resolves)

Rows older than `max_age_seconds` are deleted now and then and never loaded. WAL mode, stdlib
sqlite3; the file and its folder are created private (0600 / 0700).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from sandbox.protocol import SettleResponse
from sandbox.sqlite_writer import GroupCommitWriter

__all__ = ["PaymentRecordFile", "RecordedPayment"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('pending', 'served')),
    receipt BLOB,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_created ON payments (created);
"""
_BEGIN = "INSERT INTO payments VALUES (?, 'pending', NULL, ?) ON CONFLICT (key) DO NOTHING"
_PENDING = (
    "INSERT INTO payments VALUES (?, 'pending', ?, ?) ON CONFLICT (key) "
    "DO UPDATE SET receipt = excluded.receipt WHERE state = 'pending'"
)
_SERVED = (
    "INSERT INTO payments VALUES (?, 'served', NULL, ?) ON CONFLICT (key) "
    "DO UPDATE SET state = 'served', receipt = NULL"
)
_DROP = "DELETE FROM payments WHERE key = ? AND state = 'pending'"
_PRUNE = "DELETE FROM payments WHERE created < ?"


@dataclass(frozen=True, slots=True)
class RecordedPayment:
    key: str
    served: bool
    receipt: SettleResponse | None  # a pending payment's last answer, if it had one
    age_seconds: float


class PaymentRecordFile:
    def __init__(self, path: str | Path, max_age_seconds: float = 900.0) -> None:
        self.path = Path(path)
        self.max_age = max_age_seconds
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._db.execute(_PRUNE, (time.time() - self.max_age,))
        self.writer = GroupCommitWriter(
            self._db, name="payment-record-writer", maintenance=self._prune
        )

    @property
    def db(self) -> sqlite3.Connection:
        """The connection (for other tables of this file, written through `writer`)."""
        return self._db

    def _prune(self, db: sqlite3.Connection) -> None:
        db.execute(_PRUNE, (time.time() - self.max_age,))

    # ------------------------------------------------------------------ reading (at start)

    def load(self) -> list[RecordedPayment]:
        """Every row younger than the age bound, oldest first."""
        now = time.time()
        rows = self._db.execute(
            "SELECT key, state, receipt, created FROM payments WHERE created >= ? ORDER BY created",
            (now - self.max_age,),
        ).fetchall()
        return [
            RecordedPayment(
                key,
                state == "served",
                SettleResponse.model_validate(orjson.loads(receipt)) if receipt else None,
                max(0.0, now - created),
            )
            for key, state, receipt, created in rows
        ]

    # ------------------------------------------------------------------ writing

    async def begin(self, key: str) -> bool:
        """Record a settlement about to start, durably; False when the payment had a row."""
        return await self._write(_BEGIN, (key, time.time()), durable=True) > 0

    async def pending(self, key: str, receipt: SettleResponse | None) -> None:
        """Keep the payment pending with its last answer (a served payment stays served)."""
        blob = orjson.dumps(receipt.model_dump(mode="json")) if receipt is not None else None
        await self._write(_PENDING, (key, blob, time.time()), durable=False)

    async def served(self, key: str, *, wait: bool = True) -> None:
        """wait=False: posted, for a caller whose next awaited write follows (pending.py)."""
        if not wait and not self.writer.closed:
            self.writer.post(_SERVED, (key, time.time()))
            return
        await self._write(_SERVED, (key, time.time()), durable=False)

    async def drop(self, key: str) -> None:
        """Forget a pending payment whose settlement is known not to have moved money."""
        await self._write(_DROP, (key,), durable=False)

    def close(self) -> None:
        if self.writer.closed:
            return
        self.writer.close()
        self._db.close()

    async def _write(self, sql: str, params: tuple, *, durable: bool) -> int:
        if self.writer.closed:
            raise RuntimeError(f"the payment record {self.path} is closed")
        return await self.writer.write(sql, params, durable=durable)
