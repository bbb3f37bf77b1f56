"""The balances a transaction's status reports: lamports of every account key before and after,
and the token accounts among them (`preTokenBalances` / `postTokenBalances` in getTransaction).

Called on every executed transaction: `get` is LiteSVM's raw `get_account` (the wrapper costs
as much as the call), and after execution only the writable keys are read again.
"""

from __future__ import annotations

from collections.abc import Callable

from solders.account import Account
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

__all__ = ["TOKEN_OWNERS", "post_balances", "pre_balances", "writable_indexes"]

TOKEN_OWNERS = frozenset(
    {
        Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"),
        Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"),
    }
)

Getter = Callable[[Pubkey], "Account | None"]


def pre_balances(get: Getter, keys: list[Pubkey], accounts: list) -> tuple[list[int], list]:
    """Lamports of every key and the token accounts among them (index, program, head);
    the accounts themselves go to `accounts` (the pre-images)."""
    lamports: list[int] = []
    tokens: list = []
    for index, key in enumerate(keys):
        account = get(key)
        accounts.append(account)
        if account is None:
            lamports.append(0)
            continue
        lamports.append(account.lamports)
        if account.owner in TOKEN_OWNERS and len(account.data) >= 165:
            tokens.append((index, account.owner, bytes(account.data[:72])))
    return lamports, tokens


def writable_indexes(tx: VersionedTransaction, count: int) -> list[int]:
    """The indexes of the message's writable account keys (from its header)."""
    header = tx.message.header
    signed = header.num_required_signatures
    return [
        *range(signed - header.num_readonly_signed_accounts),
        *range(signed, count - header.num_readonly_unsigned_accounts),
    ]


def post_balances(
    get: Getter, writable: list[int], keys: list[Pubkey], pre: list[int], pre_tokens: list
) -> tuple[list[int], list]:
    """Only writable accounts can change: read those again, copy the rest."""
    post = list(pre)
    changed_tokens: dict[int, tuple] = {}
    for index in writable:
        account = get(keys[index])
        if account is None:
            post[index] = 0
            continue
        post[index] = account.lamports
        if account.owner in TOKEN_OWNERS and len(account.data) >= 165:
            changed_tokens[index] = (index, account.owner, bytes(account.data[:72]))
    tokens = [entry for entry in pre_tokens if entry[0] not in writable]
    tokens.extend(changed_tokens.values())
    tokens.sort(key=lambda entry: entry[0])
    return post, tokens
