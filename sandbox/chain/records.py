"""What the block producer answers and remembers of one transaction: `SendOutcome` (the answer
to a send) and `TxRecord` (its status and, for recent ones, its details)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import TransactionMetadata

__all__ = ["SendOutcome", "TxRecord"]


class TxRecord:
    """What the chain remembers of one transaction. Heavy fields are dropped past DETAIL_KEEP."""

    __slots__ = (
        "block_time",
        "err",
        "height",
        "meta",
        "post_balances",
        "post_tokens",
        "pre_balances",
        "pre_tokens",
        "slot",
        "tx",
    )

    def __init__(self, slot: int, height: int, err) -> None:
        self.slot = slot
        self.height = height  # block height its blockhash was issued at (dedup lifetime)
        self.err = err  # None or the JSON form of the TransactionError
        self.block_time = int(time.time())
        self.tx: VersionedTransaction | None = None
        self.meta: TransactionMetadata | None = None
        self.pre_balances: list[int] = []
        self.post_balances: list[int] = []
        self.pre_tokens: list = []
        self.post_tokens: list = []


@dataclass(slots=True)
class SendOutcome:
    signature: Signature
    err: object = None  # JSON error value when it failed
    landed: bool = True  # False: rejected before execution (nothing recorded, no fee)
    meta: TransactionMetadata | None = None
