"""Payments whose settlement this server started but could not see finish.

When the facilitator answers `settlement_pending` twice, or times out or fails during /settle,
or the chain cannot yet show its receipt, the money may be moving (or have moved) while the
client got no content. The client is told to send the same payment again; this record is how the
server then recognises it as its own unfinished settlement rather than a replay: it settles again
(which resolves it) and serves the content once. Entries are taken out while being resolved, so
two concurrent resends cannot both be served. Bounded in size and age.

It also remembers the payments this process served (same bounds): a twin request of a served
payment whose own /settle failed must not be served on its resend.

With a PaymentRecordFile (payment_record.py) both survive restarts, kill -9 included: every
settlement is recorded as begun (durably) before /settle is sent, and as served before the
content is sent; a new process starts with the pending and served payments of the file. Without
one, a restart forgets them (a resend then gets a fresh 402). A payment with a payment
identifier is marked served without waiting (ANSWER_FOLLOWS): its kept answer is written next
through the same writer and waited for before the content is sent, so both share one commit.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, field

from sandbox.protocol import SettleResponse
from sandbox.server.payment_record import PaymentRecordFile

__all__ = ["ANSWER_FOLLOWS", "PendingPayment", "PendingSettlements"]

# True while a request whose answer is kept (server/idempotent.py) runs: a write it waits for
# comes after the served mark, in order, before the client gets the content.
ANSWER_FOLLOWS: ContextVar[bool] = ContextVar("answer_follows", default=False)


@dataclass
class PendingPayment:
    receipt: SettleResponse | None  # the last answer, None when the facilitator never answered
    created: float = field(default_factory=time.monotonic)


class PendingSettlements:
    def __init__(
        self,
        max_entries: int = 10_000,
        max_age_seconds: float = 900.0,
        record: PaymentRecordFile | None = None,
    ) -> None:
        self._entries: OrderedDict[str, PendingPayment] = OrderedDict()
        self._served: OrderedDict[str, float] = OrderedDict()
        self._max_entries = max_entries
        self._max_age = max_age_seconds
        self.record = record
        if record is not None:
            self._restore(record)

    def _restore(self, record: PaymentRecordFile) -> None:
        now = time.monotonic()
        for row in record.load():  # oldest first, as if put in that order
            created = now - row.age_seconds
            if row.served:
                self._served[row.key] = created
                self._expire(self._served, lambda when: when)
            else:
                self._entries[row.key] = PendingPayment(row.receipt, created)
                self._expire(self._entries, lambda entry: entry.created)

    async def begin(self, key: str) -> bool:
        """Before /settle is sent: record (durably) that this payment's settlement started.

        Not an entry yet (a twin request must not resume a settlement still in flight here);
        only a restart makes it one. True when this call made the row (False: the payment had
        one, or there is no record file).
        """
        return await self.record.begin(key) if self.record is not None else False

    async def put(self, key: str, entry: PendingPayment) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        self._expire(self._entries, lambda entry: entry.created)
        if self.record is not None:
            await self.record.pending(key, entry.receipt)

    def take(self, key: str) -> PendingPayment | None:
        """Remove and return the entry: whoever takes it is the only one resolving it.

        The record file keeps it pending until resolved (a crash meanwhile resumes it)."""
        entry = self._entries.pop(key, None)
        if entry is not None and time.monotonic() - entry.created > self._max_age:
            return None
        return entry

    async def drop(self, key: str) -> None:
        """The settlement is known not to have moved money: nothing to resume, ever."""
        self._entries.pop(key, None)
        if self.record is not None:
            await self.record.drop(key)

    async def mark_served(self, key: str) -> None:
        self._served[key] = time.monotonic()
        self._served.move_to_end(key)
        self._expire(self._served, lambda when: when)
        if self.record is not None:
            await self.record.served(key, wait=not ANSWER_FOLLOWS.get())

    def was_served(self, key: str) -> bool:
        return key in self._served

    def close(self) -> None:
        if self.record is not None:
            self.record.close()

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self, table: OrderedDict, created_of) -> None:
        """Drop the oldest entries beyond the size bound or the age bound (oldest first)."""
        now = time.monotonic()
        while table:
            key, oldest = next(iter(table.items()))
            if len(table) <= self._max_entries and now - created_of(oldest) <= self._max_age:
                break
            del table[key]
