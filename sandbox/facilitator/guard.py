"""Fee-payer protection: what keeps one wallet from making the fee payer pay for failures.

Every transaction the facilitator sends costs its fee payer the fee, landed or failed; only the
simulation before sending is free. So:

    SourceQueue   payments from the same source token account are settled one at a time: the
                  next is simulated only once the one before it executed on the chain (or
                  could not be), so it sees the balance that one left and is refused, for free,
                  when the money is gone
    Cooldown      a payer (transfer authority) whose settlement still failed on chain (its
                  balance moved between simulation and landing, by a transaction of its own)
                  is refused as payer_temporarily_refused for `--payer-cooldown-s` seconds:
                  at most one failed transaction per payer per cool-down
    RentGuard     the token accounts a fee payer funded through create-ATA: one it funded is
                  never funded again (its merchant could close it, taking the rent, and be
                  paid through create-ATA once more, and again), and at most
                  `--max-created-accounts-per-minute` are funded in any minute (anyone can
                  settle to a fresh payTo of their own)
    fee_lamports  what a transaction cost its fee payer (counted in /metrics when it failed)

The `Settler` (settlement.py) takes a `Turn` from the queue before it simulates and releases it
as soon as the chain reports the transaction (any commitment), long before `confirmed` at 400 ms
slots: serialising costs one payer's concurrent payments a round trip each, not a block.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from solders.transaction import VersionedTransaction

from sandbox.protocol.exact_svm.transaction import compute_unit_limit, compute_unit_price

__all__ = [
    "LAMPORTS_PER_SIGNATURE",
    "Cooldown",
    "RentGuard",
    "SourceQueue",
    "Turn",
    "fee_lamports",
]

LAMPORTS_PER_SIGNATURE = 5000
_PRUNE_AT = 1024  # cool-down entries kept before the expired ones are dropped


class Turn:
    """One settlement's hold on its source; `release()` is idempotent."""

    __slots__ = ("_queue", "_source", "released")

    def __init__(self, queue: SourceQueue, source: str) -> None:
        self._queue = queue
        self._source = source
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._queue._release(self._source)


class SourceQueue:
    """A FIFO lock per source token account, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    async def acquire(self, source: str) -> Turn:
        entry = self._locks.get(source)
        if entry is None:
            entry = self._locks[source] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            await lock.acquire()
        except BaseException:  # cancelled while queued: nothing held
            self._leave(source)
            raise
        return Turn(self, source)

    def _release(self, source: str) -> None:
        self._locks[source][0].release()
        self._leave(source)

    def _leave(self, source: str) -> None:
        users = self._locks[source][1]
        users[0] -= 1
        if users[0] == 0:
            del self._locks[source]


class Cooldown:
    """Payers refused until a deadline, after a settlement of theirs failed on chain."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._until: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._until)

    def strike(self, payer: str) -> None:
        if self.seconds <= 0:
            return
        now = self.clock()
        if len(self._until) >= _PRUNE_AT:
            self._until = {p: t for p, t in self._until.items() if t > now}
        self._until[payer] = now + self.seconds

    def remaining(self, payer: str) -> float:
        """Seconds this payer is still refused (0: not refused)."""
        if not self._until:
            return 0.0
        until = self._until.get(payer)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self._until[payer]
            return 0.0
        return left


class RentGuard:
    """The accounts whose rent a fee payer funded, and how many in the last minute.

    Kept in memory: a restart forgets which accounts were funded (each can then be funded once
    more) but not the per-minute bound, which holds from the start.
    """

    WINDOW_S = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute  # 0: no limit
        self.clock = clock
        self._funded: set[str] = set()
        self._recent: list[float] = []  # when each of the last minute's accounts was funded

    def __len__(self) -> int:
        return len(self._funded)

    def funded(self, account: str) -> None:
        """The fee payer paid this account's rent (a create-ATA that created it)."""
        self._funded.add(account)
        self._recent.append(self.clock())

    def refusal(self, account: str) -> str | None:
        """Why funding this account's rent now is refused, or None when it may be funded."""
        if account in self._funded:
            return (
                f"the fee payer already funded the rent of token account {account} once, and it "
                "has been closed since: it is not funded again (its owner can create it)"
            )
        if self.per_minute:
            start = self.clock() - self.WINDOW_S
            self._recent = [t for t in self._recent if t > start]
            if len(self._recent) >= self.per_minute:
                return (
                    f"the fee payer funded {len(self._recent)} new token accounts in the last "
                    f"minute, its limit (--max-created-accounts-per-minute {self.per_minute}): "
                    "try again in a minute, or create payTo's token account first"
                )
        return None


def fee_lamports(transaction: VersionedTransaction) -> int:
    """The base fee per signature plus the priority fee of its compute budget (rounded up), as
    validators charge it; a payment's first two instructions are the limit and the price."""
    message = transaction.message
    keys = list(message.account_keys)
    limit = price = 0
    for ix in message.instructions[:2]:
        limit = compute_unit_limit(ix, keys) or limit
        price = compute_unit_price(ix, keys) or price
    priority = -(-price * limit // 1_000_000)
    return LAMPORTS_PER_SIGNATURE * message.header.num_required_signatures + priority
