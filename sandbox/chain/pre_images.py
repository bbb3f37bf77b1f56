"""Pre-images: how reads at confirmed and finalized see accounts as of their block.

While a block is not yet at a level, the first pre-image of each account its transactions wrote
answers for that level (`PendingBlock.images`); the block producer drops the block once it
reaches finalized. Cheat writes (funding, setAccount) show at every level at once: their change
is carried into those pre-images instead of replacing them (`carry_cheat`).
"""

from __future__ import annotations

from collections.abc import Iterable

from solders.account import Account
from solders.pubkey import Pubkey

from .balances import TOKEN_OWNERS

__all__ = ["ABSENT", "PendingBlock", "carried", "carry_cheat", "existing"]

ABSENT = object()  # "no pre-image": distinct from None, which is "the account did not exist"
_U64 = 2**64


class PendingBlock:
    """A block not yet finalized: the state its transactions overwrote, per account."""

    __slots__ = ("images", "slot")

    def __init__(self, slot: int) -> None:
        self.slot = slot
        self.images: dict[Pubkey, Account | None] = {}  # first pre-image in this block


def existing(account: Account | None) -> Account | None:
    """None for an account that does not exist (no lamports, no data), as reads answer."""
    if account is None or (account.lamports == 0 and not account.data):
        return None
    return account


def carry_cheat(
    pending: Iterable[PendingBlock],
    changes: list[tuple[Pubkey, Account | None, Account | None]],
) -> None:
    """Cheat writes (funding, setAccount) show at every level at once, while the changes of
    transactions not yet at a level stay hidden there. `changes`: (key, before, after).

    An account with no pending pre-image simply shows its new state everywhere. A pending
    pre-image gets the cheat's change carried into it: the lamports delta, and for a token
    account or mint the amount or supply delta; its other fields stay as that level saw
    them. Where there is no delta to carry (the account did not exist at that level, or the
    cheat created or deleted it) the pre-image stays as it is: a level never shows state of
    a transaction it has not reached, so the cheat shows there once the block reaches it.
    """
    for block in pending:
        images = block.images
        for key, before, after in changes:
            image = images.get(key)
            if image is not None and before is not None and after is not None:
                images[key] = carried(image, before, after)


def _counter_at(account: Account) -> int | None:
    """Offset of the u64 a funding changes in token data: a token account's amount (64) or a
    mint's supply (36); None for anything else. Token-2022 marks extended data at byte 165."""
    if account.owner not in TOKEN_OWNERS:
        return None
    size = len(account.data)
    if size == 82:
        return 36
    if size == 165:
        return 64
    if size > 165:
        kind = account.data[165]
        return 36 if kind == 1 else 64 if kind == 2 else None
    return None


def carried(image: Account, before: Account, after: Account) -> Account:
    """`image` (a level's view of the account) with the change before -> after applied."""
    lamports = min(max(image.lamports + after.lamports - before.lamports, 0), _U64 - 1)
    data = image.data
    at = _counter_at(after)
    if at is not None and _counter_at(before) == at and _counter_at(image) == at:
        end = at + 8
        delta = int.from_bytes(after.data[at:end], "little") - int.from_bytes(
            before.data[at:end], "little"
        )
        if delta:
            value = min(max(int.from_bytes(data[at:end], "little") + delta, 0), _U64 - 1)
            data = bytearray(data)
            data[at:end] = value.to_bytes(8, "little")
            data = bytes(data)
    return Account(
        lamports=lamports,
        data=data,
        owner=image.owner,
        executable=image.executable,
        rent_epoch=image.rent_epoch,
    )
