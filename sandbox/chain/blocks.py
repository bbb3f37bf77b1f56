"""The chain's block history: what getBlock, getBlocks, getBlockTime and
getRecentPerformanceSamples answer from.

Per closed block: its slot, parent slot, blockhash, previous blockhash, block height, block
time and its transactions' signatures (in execution order), for the last BLOCK_KEEP blocks.
The producer calls `close` as each block closes (producer.py); the block's time becomes its
transactions' `blockTime` too, so getTransaction and getBlock agree.

A block's blockhash and height are the chain's at its close: the blockhash clock is wall time
(400 ms) in every mode, so at `--slot-ms 0` the blocks closed within one 400 ms share both.
Blockhashes derive from the ledger's seed and a height (`blockhash_at`), so the journal keeps a
block as `[slot, height, time, transaction count, parent slot, previous height]` alone (the
previous blockhash is the one issued at the previous height); its signatures are the journaled
transactions of its slot (`attach` during replay). A restored block with fewer transactions
than it had (their records pruned before a checkpoint) says so: `complete` is False.

Performance samples are per wall-clock minute, from the blocks as they close (and as replay
restores them); the newest covers the minute so far.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from solders.hash import Hash
from solders.signature import Signature

if TYPE_CHECKING:
    from .producer import BlockProducer

__all__ = ["BLOCK_KEEP", "SAMPLE_KEEP", "Block", "BlockHistory", "blockhash_at"]

BLOCK_KEEP = 50_000  # ~5.5 hours of 400 ms blocks; as many as the statuses kept at --slot-ms 0
SAMPLE_KEEP = 720  # the validator's PERFORMANCE_SAMPLES_LIMIT
SAMPLE_SECS = 60


def blockhash_at(seed: bytes, height: int) -> Hash:
    """The blockhash the ledger of `seed` issues at block height `height`."""
    return Hash(hashlib.sha256(seed + height.to_bytes(8, "little")).digest())


class Block:
    __slots__ = (
        "blockhash",
        "count",
        "height",
        "parent",
        "previous",
        "previous_height",
        "signatures",
        "slot",
        "time",
    )

    def __init__(
        self,
        slot: int,
        parent: int,
        blockhash: Hash,
        previous: tuple[Hash, int],
        height: int,
        when: int,
        signatures: list[Signature],
        count: int | None = None,
    ) -> None:
        self.slot, self.parent, self.height, self.time = slot, parent, height, when
        self.blockhash = blockhash
        self.previous, self.previous_height = previous
        self.signatures = signatures
        self.count = len(signatures) if count is None else count

    @property
    def complete(self) -> bool:
        return len(self.signatures) >= self.count

    def journal_json(self) -> list[int]:
        return [self.slot, self.height, self.time, self.count, self.parent, self.previous_height]


class BlockHistory:
    """The last BLOCK_KEEP closed blocks of one ledger, by slot, oldest first."""

    def __init__(self, parent: int, blockhash: Hash, height: int, producer: BlockProducer) -> None:
        self.by_slot: dict[int, Block] = {}
        self.order: deque[Block] = deque()
        self.producer = producer  # blocks set their records' block time, and see its journal
        # what the next block follows: its parent slot, previous blockhash and height
        self.last_slot, self.last_hash = parent, (blockhash, height)
        self.unjournaled: list[Block] = []  # closed since the journal's last frame
        # [minute, first slot, last slot, transactions] per wall-clock minute, oldest first
        self.samples: deque[list[int]] = deque(maxlen=SAMPLE_KEEP)
        self._orphans: dict[int, list[Signature]] = {}  # replay: signatures before their block

    # ---- closing ---------------------------------------------------------------------------
    def close(self, slot: int, height: int, blockhash: Hash, signatures: list[Signature]) -> None:
        """The producer closed the block at `slot` (its list of signatures is the block's now)."""
        when = int(time.time())
        statuses = self.producer.statuses
        for sig in signatures:
            record = statuses.get(sig)
            if record is not None:
                record.block_time = when
        block = Block(slot, self.last_slot, blockhash, self.last_hash, height, when, signatures)
        self._add(block)
        if self.producer.journal is not None:
            self.unjournaled.append(block)

    def _add(self, block: Block) -> None:
        self.by_slot[block.slot] = block
        self.order.append(block)
        if len(self.order) > BLOCK_KEEP:
            del self.by_slot[self.order.popleft().slot]
        self.last_slot, self.last_hash = block.slot, (block.blockhash, block.height)
        minute = block.time // SAMPLE_SECS
        samples = self.samples
        if samples and samples[-1][0] == minute:
            sample = samples[-1]
            sample[2] = block.slot
            sample[3] += block.count
        else:
            samples.append([minute, block.slot, block.slot, block.count])

    # ---- reading ---------------------------------------------------------------------------
    def get(self, slot: int) -> Block | None:
        return self.by_slot.get(slot)

    @property
    def first_slot(self) -> int | None:
        """The oldest block kept (None: no block yet)."""
        return self.order[0].slot if self.order else None

    def slots_between(self, start: int, end: int, limit: int | None = None) -> list[int]:
        """Slots of the blocks kept in [start, end], ascending, at most `limit` of them."""
        if end < start or not self.order:
            return []
        found: list[int] = []
        if end - start + 1 <= len(self.order):
            by_slot = self.by_slot
            for slot in range(start, end + 1):
                if slot in by_slot:
                    found.append(slot)
                    if limit is not None and len(found) >= limit:
                        break
            return found
        for block in self.order:
            if block.slot > end:
                break
            if block.slot >= start:
                found.append(block.slot)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def performance_samples(self, limit: int, newest_slot: int) -> list[dict[str, Any]]:
        """Newest first, as getRecentPerformanceSamples answers (no votes here: every
        transaction is a non-vote one). `newest_slot`: the slots of the current minute run to
        the newest closed one, blocks or not."""
        now = time.time()
        samples = list(self.samples)
        answer = []
        for index in range(len(samples) - 1, max(len(samples) - 1 - limit, -1), -1):
            minute, first, last, count = samples[index]
            current = minute == int(now) // SAMPLE_SECS
            if current:
                last = max(last, newest_slot)
            before = samples[index - 1][2] if index > 0 else first - 1
            period = max(1, int(now) - minute * SAMPLE_SECS) if current else SAMPLE_SECS
            answer.append(
                {
                    "numNonVoteTransactions": count,
                    "numSlots": last - before,
                    "numTransactions": count,
                    "samplePeriodSecs": min(period, SAMPLE_SECS),
                    "slot": last,
                }
            )
        return answer

    # ---- the journal (journal.py, journal_codec.py) ------------------------------------------
    def take_journal(self) -> list[list[int]]:
        """The blocks closed since the last frame, as the frame holds them (and forget them)."""
        blocks, self.unjournaled = self.unjournaled, []
        return [block.journal_json() for block in blocks]

    def history_json(self) -> list[list[int]]:
        return [block.journal_json() for block in self.order]

    def attach(self, sig: Signature, slot: int) -> None:
        """Replay: a transaction restored (not known before) of the block at `slot`, whether
        that block is restored later (the usual order: a frame's transactions come before its
        blocks) or was already."""
        block = self.by_slot.get(slot)
        if block is not None:
            block.signatures.append(sig)
            block.count = max(block.count, len(block.signatures))
            return
        self._orphans.setdefault(slot, []).append(sig)

    def restore(self, value: list[int], seed: bytes) -> None:
        """Replay: one journaled block (frames in order, so blocks come oldest first)."""
        slot, height, when, count, parent, previous_height = value[:6]
        if slot in self.by_slot or (self.order and slot <= self.last_slot):
            return  # already known, or older than the newest block restored
        signatures = self._orphans.pop(slot, [])
        statuses = self.producer.statuses
        for sig in signatures:
            record = statuses.get(sig)
            if record is not None:
                record.block_time = when
        previous = (blockhash_at(seed, previous_height), previous_height)
        block = Block(slot, parent, blockhash_at(seed, height), previous, height, when, signatures)
        block.count = max(count, len(signatures))
        self._add(block)

    def finish_replay(
        self, open_slot: int, closed_slot: int, blockhash: Hash, height: int
    ) -> list[Signature]:
        """After replay: the signatures journaled for the open block (a cheat's, written before
        its block closed), to carry on in it. Without any block restored, the next block
        follows the restored clock."""
        open_sigs = self._orphans.pop(open_slot, [])
        self._orphans.clear()
        self.unjournaled = []
        if not self.order:
            self.last_slot, self.last_hash = closed_slot, (blockhash, height)
        return open_sigs
