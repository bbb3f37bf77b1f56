"""The clock: it only ticks. The block producer decides what a tick does.

Two cadences: blocks close every `slot_ms` (none when 0: then each transaction closes its own
block; none at `--slot-ms manual`: then only sandbox_advanceSlots closes blocks), and the
blockhash clock issues a new blockhash every 400 ms in every mode, so blockhash lifetime stays
~60 s of wall time however fast blocks are.
"""

from __future__ import annotations

import asyncio
import logging
import time

from .producer import BlockProducer
from .settings import BLOCKHASH_MS

__all__ = ["SlotClock"]

log = logging.getLogger("sandbox.chain.clock")


class SlotClock:
    def __init__(self, producer: BlockProducer, slot_ms: int | None) -> None:
        self.producer = producer
        self.slot_s = (slot_ms or 0) / 1000.0  # 0: no timed blocks
        self.hash_s = BLOCKHASH_MS / 1000.0

    async def run(self) -> None:
        now = time.monotonic()
        next_block = now + self.slot_s if self.slot_s else float("inf")
        next_hash = now + self.hash_s
        while True:
            await asyncio.sleep(max(0.0, min(next_block, next_hash) - time.monotonic()))
            now = time.monotonic()
            try:
                if now >= next_block:
                    self.producer.close_block()
                    next_block += self.slot_s
                    if next_block < now:  # the loop was blocked: don't replay missed blocks
                        next_block = now + self.slot_s
                if now >= next_hash:
                    # Catch up on missed ticks: blockhash lifetime is wall time.
                    missed = int((now - next_hash) / self.hash_s) + 1
                    self.producer.advance_height(missed)
                    next_hash += missed * self.hash_s
            except Exception:  # a listener bug must not stop time
                log.exception("clock tick failed")
