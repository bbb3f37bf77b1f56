"""What the interop tests read back from our chain after a payment: USDC balances and landed
transactions, at `confirmed` (what a settlement waits for)."""

from __future__ import annotations

from typing import Any

from solders.pubkey import Pubkey

from sandbox.orchestration.rpc import ChainRpc
from sandbox.protocol import associated_token_address

__all__ = ["fee_payer_of", "landed", "transaction", "usdc"]


def usdc(rpc: ChainRpc, owner: str | Pubkey, mint: str) -> int:
    """The balance of `owner`'s associated token account for `mint`, in atomic units."""
    ata = associated_token_address(Pubkey.from_string(str(owner)), Pubkey.from_string(mint))
    balance = rpc.token_balance(str(ata))
    assert balance is not None, f"{owner} has no token account {ata} for {mint}"
    return balance


def transaction(rpc: ChainRpc, signature: str) -> dict[str, Any] | None:
    """getTransaction at confirmed; None if the chain does not have it."""
    return rpc.call(
        "getTransaction",
        signature,
        {"encoding": "json", "maxSupportedTransactionVersion": 0, "commitment": "confirmed"},
    )


def landed(rpc: ChainRpc, signature: str) -> dict[str, Any]:
    """The transaction, which must be on the chain and have succeeded."""
    tx = transaction(rpc, signature)
    assert tx is not None, f"{signature} is not on the chain"
    assert tx["meta"]["err"] is None, tx["meta"]
    return tx


def fee_payer_of(rpc: ChainRpc, signature: str) -> str:
    """Who paid the fee of a landed transaction (its first account key)."""
    return landed(rpc, signature)["transaction"]["message"]["accountKeys"][0]
