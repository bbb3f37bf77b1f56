"""The exactly-once settlement ledger: SQLite on disk, an index in memory.

A payment's identity is the SHA-256 of its message bytes (signatures are mutable) and, when it
carries a memo, its client nonce (scoped to the payer). `reserve()` claims both in memory, which
is atomic in the event loop, so of N concurrent settles exactly one proceeds; `persist()` writes
the row (in a dedicated thread, never blocking the loop) before anything is sent. This process is
the ledger's only writer.

The index in memory is bounded: every row not yet final (sending, pending) and the most recent
`memory_rows` final ones (settled, failed) whose last write reached the disk. A lookup it misses
reads the file (a primary-key or index lookup on the loop thread's own read connection; skipped
while the index holds every row of the file). Start-up loads only that much, never every row.

Row states:
    sending    claimed; the owner is sending and waiting          (restart turns it into pending)
    pending    sent, its commitment not seen yet (settlement_pending was answered)
    settled    landed at the commitment without error
    failed     landed with an error, or expired without landing: nothing moved, nonce released
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_MEMORY_ROWS", "FAILED", "PENDING", "SENDING", "SETTLED", "Ledger", "LedgerRow"]

SENDING, PENDING, SETTLED, FAILED = "sending", "pending", "settled", "failed"
_FINAL = (SETTLED, FAILED)
DEFAULT_MEMORY_ROWS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settlements (
    message_hash   BLOB PRIMARY KEY,
    nonce_key      BLOB,
    signature      TEXT NOT NULL,
    state          TEXT NOT NULL,
    payer          TEXT NOT NULL,
    amount         TEXT NOT NULL,
    network        TEXT NOT NULL,
    transaction_b64 TEXT NOT NULL,
    blockhash      TEXT NOT NULL,
    error          TEXT,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS settlements_nonce ON settlements (nonce_key);
CREATE INDEX IF NOT EXISTS settlements_created ON settlements (created_at);
CREATE INDEX IF NOT EXISTS settlements_open ON settlements (state)
    WHERE state IN ('sending', 'pending');
"""

_COLUMNS = (
    "message_hash, nonce_key, signature, state, payer, amount, network, transaction_b64, "
    "blockhash, error, created_at, updated_at"
)


@dataclass
class LedgerRow:
    message_hash: bytes
    nonce_key: bytes | None
    signature: str
    state: str
    payer: str
    amount: str
    network: str
    transaction_b64: str  # the fully signed transaction, so a pending one can be re-broadcast
    blockhash: str
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def values(self) -> tuple:
        return (
            self.message_hash,
            self.nonce_key,
            self.signature,
            self.state,
            self.payer,
            self.amount,
            self.network,
            self.transaction_b64,
            self.blockhash,
            self.error,
            self.created_at,
            self.updated_at,
        )


class Ledger:
    def __init__(self, path: str | Path, memory_rows: int = DEFAULT_MEMORY_ROWS) -> None:
        self.path = Path(path)
        self.memory_rows = max(1, memory_rows)
        self._by_hash: dict[bytes, LedgerRow] = {}
        self._by_nonce: dict[bytes, LedgerRow] = {}
        self._final: OrderedDict[bytes, LedgerRow] = OrderedDict()  # on disk, oldest first
        self._evicted: dict[str, int] = {}  # rows of the file not in memory, by state
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        self._db: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None

    # ------------------------------------------------------------ lifecycle

    def open(self) -> Ledger:
        """Open (creating) the file and load the rows not final and the most recent final ones;
        `sending` rows come back as pending."""
        self._executor.submit(self._open).result()
        self._reader = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        return self

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        db.execute("UPDATE settlements SET state = ? WHERE state = ?", (PENDING, SENDING))
        recent = db.execute(
            f"SELECT {_COLUMNS} FROM settlements WHERE state IN (?, ?) "
            "ORDER BY created_at DESC LIMIT ?",
            (*_FINAL, self.memory_rows),
        ).fetchall()
        for values in reversed(recent):
            row = LedgerRow(*values)
            self._index(row)
            self._final[row.message_hash] = row
        opened = f"SELECT {_COLUMNS} FROM settlements WHERE state IN (?, ?) ORDER BY created_at"
        for values in db.execute(opened, (SENDING, PENDING)):
            self._index(LedgerRow(*values))
        loaded: dict[str, int] = {}
        for row in self._by_hash.values():
            loaded[row.state] = loaded.get(row.state, 0) + 1
        for state, count in db.execute("SELECT state, COUNT(*) FROM settlements GROUP BY state"):
            if count > loaded.get(state, 0):
                self._evicted[state] = count - loaded.get(state, 0)
        self._db = db

    def close(self) -> None:
        def _close() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)

    # ------------------------------------------------------------ reads

    def __len__(self) -> int:
        """Rows in memory (bounded); counts() has the file's."""
        return len(self._by_hash)

    def by_hash(self, message_hash: bytes) -> LedgerRow | None:
        row = self._by_hash.get(message_hash)
        if row is None and self._evicted:
            row = self._read("message_hash = ?", (message_hash,))
        return row

    def by_nonce(self, nonce_key: bytes | None) -> LedgerRow | None:
        """The live row (not failed) that holds this client nonce."""
        if nonce_key is None:
            return None
        row = self._by_nonce.get(nonce_key)
        if row is None and self._evicted:
            row = self._read("nonce_key = ? AND state != ?", (nonce_key, FAILED))
        return row

    def counts(self) -> dict[str, int]:
        counts = {SENDING: 0, PENDING: 0, SETTLED: 0, FAILED: 0}
        for state, count in self._evicted.items():
            counts[state] = counts.get(state, 0) + count
        for row in self._by_hash.values():
            counts[row.state] = counts.get(row.state, 0) + 1
        return counts

    def _read(self, where: str, args: tuple) -> LedgerRow | None:
        """A row evicted from memory (final, on disk), from the file."""
        if self._reader is None:
            return None
        query = f"SELECT {_COLUMNS} FROM settlements WHERE {where} ORDER BY created_at DESC LIMIT 1"
        values = self._reader.execute(query, args).fetchone()
        return None if values is None else LedgerRow(*values)

    # ------------------------------------------------------------ writes

    def reserve(self, row: LedgerRow) -> LedgerRow | None:
        """Claim the payment's hash and nonce; answers the row already holding one, else None."""
        existing = self.by_hash(row.message_hash) or self.by_nonce(row.nonce_key)
        if existing is not None:
            return existing
        self._index(row)
        return None

    async def persist(self, row: LedgerRow) -> None:
        values = row.values()
        await asyncio.get_running_loop().run_in_executor(self._executor, self._write, values)

    async def set_state(self, row: LedgerRow, state: str, error: str | None = None) -> None:
        row.state = state
        row.error = error
        row.updated_at = time.time()
        # Nothing moved on a failure: the client may pay again with the same nonce.
        if state == FAILED and row.nonce_key and self._by_nonce.get(row.nonce_key) is row:
            del self._by_nonce[row.nonce_key]
        await self.persist(row)
        if row.state in _FINAL and self._by_hash.get(row.message_hash) is row:
            self._final[row.message_hash] = row  # on disk as it is: it may leave memory
            while len(self._final) > self.memory_rows:
                self._evict(self._final.popitem(last=False)[1])

    def forget(self, row: LedgerRow) -> None:
        """Drop a claim that never reached the disk (the write itself failed)."""
        if self._by_hash.get(row.message_hash) is row:
            del self._by_hash[row.message_hash]
        if row.nonce_key is not None and self._by_nonce.get(row.nonce_key) is row:
            del self._by_nonce[row.nonce_key]

    def _index(self, row: LedgerRow) -> None:
        self._by_hash[row.message_hash] = row
        if row.nonce_key is not None and row.state != FAILED:
            self._by_nonce[row.nonce_key] = row

    def _evict(self, row: LedgerRow) -> None:
        if self._by_hash.get(row.message_hash) is not row:
            return
        del self._by_hash[row.message_hash]
        if row.nonce_key is not None and self._by_nonce.get(row.nonce_key) is row:
            del self._by_nonce[row.nonce_key]
        self._evicted[row.state] = self._evicted.get(row.state, 0) + 1

    def _write(self, values: tuple) -> None:
        self._db.execute(
            f"INSERT OR REPLACE INTO settlements ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            values,
        )
