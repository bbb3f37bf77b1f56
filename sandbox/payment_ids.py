"""Payment identifiers seen, each bound to the payload that first carried it, with the answer
that payload got: the store behind the `payment-identifier` extension, for the server and the
facilitator alike (sandbox/protocol/payment_identifier.py has the wire side).

    claim(key, fingerprint)
        new        nobody holds the key: the caller processes the request, then finish()es
        replay     the same payload was answered: here is that answer, do nothing else
        conflict   the key is bound to another payload (409)
        busy       the same payload is still being processed and did not finish within
                   `wait_seconds` (an error the client can retry)
      A claim of the same payload while another request processes it waits for that one.
    finish(key, fingerprint, answer, keep=...)
        answer     keep it: every resend of the payload gets it
        keep=True  no answer to keep (the outcome is not known: pending, a failed call) but the
                   key stays bound, so a different payload is still a conflict and this one is
                   processed again when resent
        otherwise  forget the key (nothing was charged; the id may be used again)

A key is the caller's scope plus the id (a route, a merchant) so that one id cannot reach across
them. With a SQLite connection and its writer (sqlite_writer.py) the binding is posted when a
key is claimed (it commits in order, with the next write the caller waits for: on the server
the durable pending record written before /settle, so a bound id outlives a crash mid-payment
and another payload with it is still a 409) and the answer is written when the request
finishes. By default the caller waits for that one (the answer is in the file before the client
sees it, so it survives a crash right after); `wait_for_writes=False` posts it too, for a caller
whose own records answer for a lost row (the facilitator's ledger). Rows survive restarts; rows
older than `max_age_seconds` are deleted, and at most `max_entries` stay in memory (the oldest
leave; a resend of one of those is processed again, which the settlement records make
harmless: served once, charged once).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from sandbox.sqlite_writer import GroupCommitWriter

__all__ = ["Claim", "PaymentIdStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payment_ids (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    answer BLOB,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS payment_ids_created ON payment_ids (created);
"""
_BIND = "INSERT INTO payment_ids VALUES (?, ?, NULL, ?) ON CONFLICT (key) DO NOTHING"
_STORE = (
    "INSERT INTO payment_ids VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE "
    "SET answer = excluded.answer WHERE payment_ids.fingerprint = excluded.fingerprint"
)
_FORGET = "DELETE FROM payment_ids WHERE key = ? AND fingerprint = ? AND answer IS NULL"
_PRUNE = "DELETE FROM payment_ids WHERE created < ?"
_PRUNE_EVERY = 1000  # new ids


@dataclass(frozen=True, slots=True)
class Claim:
    kind: Literal["new", "replay", "conflict", "busy"]
    answer: bytes | None = None


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    answer: bytes | None
    created: float
    busy: asyncio.Future | None = None  # set while a request processes this payload
    stored: bool = False  # its row is in the file


class PaymentIdStore:
    def __init__(
        self,
        db: sqlite3.Connection | None = None,
        writer: GroupCommitWriter | None = None,
        *,
        max_age_seconds: float = 86_400.0,
        max_entries: int = 20_000,
        wait_seconds: float = 120.0,
        wait_for_writes: bool = True,
    ) -> None:
        if (db is None) != (writer is None):
            raise ValueError("PaymentIdStore needs both a connection and its writer, or neither")
        self.writer = writer
        self.max_age = max_age_seconds
        self.max_entries = max(1, max_entries)
        self.wait_seconds = wait_seconds
        self.wait_for_writes = wait_for_writes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # oldest first
        self._binds = 0
        if db is not None:
            db.executescript(_SCHEMA)
            db.execute(_PRUNE, (time.time() - self.max_age,))
            rows = db.execute(
                "SELECT key, fingerprint, answer, created FROM payment_ids "
                "ORDER BY created DESC LIMIT ?",
                (self.max_entries,),
            ).fetchall()
            for key, fingerprint, answer, created in reversed(rows):
                self._entries[key] = _Entry(fingerprint, answer, created, stored=True)

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, key: str) -> tuple[str, bytes | None] | None:
        """(fingerprint, kept answer or None) of a bound key, without claiming it."""
        entry = self._entries.get(key)
        return None if entry is None else (entry.fingerprint, entry.answer)

    async def claim(self, key: str, fingerprint: str) -> Claim:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(fingerprint, None, time.time())
                entry.busy = asyncio.get_running_loop().create_future()
                self._evict()
                self._binds += 1
                # Posted: the writer commits in order, so the binding is in the file before any
                # later write of this payment (the server's durable pending record, waited for
                # before /settle), and shares that commit instead of costing one of its own.
                self._post(_BIND, (key, fingerprint, entry.created))
                entry.stored = self.writer is not None
                if self._binds % _PRUNE_EVERY == 0:
                    self._post(_PRUNE, (time.time() - self.max_age,))
                return Claim("new")
            if entry.fingerprint != fingerprint:
                return Claim("conflict")
            if entry.answer is not None:
                return Claim("replay", entry.answer)
            if entry.busy is None:  # bound, not answered: this resend is processed again
                entry.busy = asyncio.get_running_loop().create_future()
                return Claim("new")
            left = deadline - time.monotonic()
            if left <= 0:
                return Claim("busy")
            try:
                await asyncio.wait_for(asyncio.shield(entry.busy), left)
            except TimeoutError:
                return Claim("busy")

    async def finish(
        self, key: str, fingerprint: str, answer: bytes | None, *, keep: bool = False
    ) -> None:
        entry = self._entries.get(key)
        if entry is None or entry.fingerprint != fingerprint:
            return
        try:
            if answer is not None or (keep and not entry.stored):
                entry.answer = answer
                entry.stored = True
                params = (key, fingerprint, answer, entry.created)
                if self.wait_for_writes:
                    await self._write(_STORE, params)
                else:
                    self._post(_STORE, params)
            elif not keep:
                del self._entries[key]
                if entry.stored:
                    if self.wait_for_writes:
                        await self._write(_FORGET, (key, fingerprint))
                    else:
                        self._post(_FORGET, (key, fingerprint))
        finally:
            self._wake(entry)

    @staticmethod
    def _wake(entry: _Entry) -> None:
        busy, entry.busy = entry.busy, None
        if busy is not None and not busy.done():
            busy.set_result(None)

    def _evict(self) -> None:
        too_old = time.time() - self.max_age
        while self._entries:
            key, oldest = next(iter(self._entries.items()))
            if len(self._entries) <= self.max_entries and oldest.created >= too_old:
                break
            if oldest.busy is not None:
                break  # never drop one being processed; the bound is soft meanwhile
            del self._entries[key]

    async def _write(self, sql: str, params: tuple) -> None:
        if self.writer is not None:
            await self.writer.write(sql, params)

    def _post(self, sql: str, params: tuple) -> None:
        if self.writer is not None:
            self.writer.post(sql, params)
