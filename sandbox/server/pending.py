"""Payments whose settlement this server started but could not see finish.

When the facilitator answers `settlement_pending` twice, or times out or fails during /settle,
the money may be moving (or have moved) while the client got no content. The client is told to
send the same payment again; this record is how the server then recognises it as its own
unfinished settlement rather than a replay: it settles again (which resolves it) and serves the
content once. Entries are taken out while being resolved, so two concurrent resends cannot both
be served. Bounded in size and age; it lives in memory (a restart forgets it, and a resend then
gets a fresh 402).

It also remembers the payments this process served (same bounds): a twin request of a served
payment whose own /settle failed must not be served on its resend.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from sandbox.protocol import SettleResponse

__all__ = ["PendingPayment", "PendingSettlements"]


@dataclass
class PendingPayment:
    receipt: SettleResponse | None  # the last answer, None when the facilitator never answered
    created: float = field(default_factory=time.monotonic)


class PendingSettlements:
    def __init__(self, max_entries: int = 10_000, max_age_seconds: float = 900.0) -> None:
        self._entries: OrderedDict[str, PendingPayment] = OrderedDict()
        self._served: OrderedDict[str, float] = OrderedDict()
        self._max_entries = max_entries
        self._max_age = max_age_seconds

    def put(self, key: str, entry: PendingPayment) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        self._expire(self._entries, lambda entry: entry.created)

    def take(self, key: str) -> PendingPayment | None:
        """Remove and return the entry: whoever takes it is the only one resolving it."""
        entry = self._entries.pop(key, None)
        if entry is not None and time.monotonic() - entry.created > self._max_age:
            return None
        return entry

    def mark_served(self, key: str) -> None:
        self._served[key] = time.monotonic()
        self._served.move_to_end(key)
        self._expire(self._served, lambda when: when)

    def was_served(self, key: str) -> bool:
        return key in self._served

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
