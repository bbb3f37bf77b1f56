"""The chain as the load-test wrapper sees it: balances, transaction count, funding.

Synchronous (the shared client, sandbox/jsonrpc.py): called before and after a run, never on
the hot path. Cheat codes (`sandbox_*`) are used only when the chain is a sandbox; against
another chain the wrapper reads balances and nothing more. The Locust users' own view of the
chain (blockhash, mint facts, on the hot path) is loadtests/chain_view.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solders.pubkey import Pubkey

from sandbox.jsonrpc import JsonRpcClient, RpcError
from sandbox.orchestration.wallets import load_or_create
from sandbox.protocol import associated_token_address
from sandbox.protocol.programs import TOKEN_PROGRAM_ID

__all__ = ["ChainAccounts", "Snapshot", "prepare_payers"]

BATCH = 200


class ChainAccounts(JsonRpcClient):
    """The shared JSON-RPC client (sandbox/jsonrpc.py); a failed call in a batch answers None."""

    def __init__(self, url: str, admin_token: str | None = None, timeout: float = 15.0) -> None:
        super().__init__(url, timeout=timeout, admin_token=admin_token, batch_size=BATCH)

    def __enter__(self) -> ChainAccounts:
        return self

    def batch(self, calls: list[tuple[str, list[Any]]], *, errors: str = "none") -> list[Any]:
        """Results (or None for a call that failed) in the order of `calls`."""
        return super().batch(calls, errors=errors)

    def sandbox_info(self) -> dict[str, Any] | None:
        """sandbox_getInfo, or None when the chain is not a sandbox (or cheats are off)."""
        try:
            info = self.call("sandbox_getInfo")
        except RpcError:
            return None
        return info if isinstance(info, dict) else None

    def transaction_count(self) -> int | None:
        """Transactions the chain executed: the sandbox's own count, else the standard
        getTransactionCount (any validator; it also counts votes on a real cluster)."""
        info = self.sandbox_info()
        try:
            if info:
                return int(info["stats"]["transactions"])
        except (KeyError, TypeError, ValueError):
            pass
        try:
            count = self.call("getTransactionCount", {"commitment": "processed"})
        except RpcError:
            return None
        return count if isinstance(count, int) else None

    def usdc_balances(self, owners: list[str], mint: str) -> dict[str, int | None]:
        """Atomic USDC of each owner's associated token account (None: no account)."""
        mint_key = Pubkey.from_string(mint)
        atas = [
            str(associated_token_address(Pubkey.from_string(o), mint_key, TOKEN_PROGRAM_ID))
            for o in owners
        ]
        # Confirmed: what a settled payment reaches (the default, finalized, lags a block).
        confirmed = {"commitment": "confirmed"}
        results = self.batch([("getTokenAccountBalance", [ata, confirmed]) for ata in atas])
        out: dict[str, int | None] = {}
        for owner, result in zip(owners, results, strict=True):
            try:
                out[owner] = int(result["value"]["amount"])
            except (KeyError, TypeError, ValueError):
                out[owner] = None
        return out


@dataclass
class Snapshot:
    """Balances and the chain's transaction count at one moment."""

    merchant: int | None
    payers: dict[str, int | None]
    transactions: int | None
    slot: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def take(
        cls, chain: ChainAccounts, merchant: str | None, payers: list[str], mint: str
    ) -> Snapshot:
        owners = ([merchant] if merchant else []) + payers
        balances = chain.usdc_balances(owners, mint)
        return cls(
            merchant=balances.get(merchant) if merchant else None,
            payers={p: balances[p] for p in payers},
            transactions=chain.transaction_count(),
        )

    def to_json(self) -> dict[str, Any]:
        return {"merchant": self.merchant, "payers": self.payers, "transactions": self.transactions}


def prepare_payers(
    chain: ChainAccounts, folder: Path, count: int, mint: str, usdc_each: int
) -> list[str]:
    """Create (or reuse) `count` payer keypairs in `folder` and top their USDC up to
    `usdc_each` with sandbox_mintTo when they hold less than half of it."""
    addresses = []
    for i in range(count):
        keypair, _new = load_or_create(folder / f"payer-{i:03d}.json")
        addresses.append(str(keypair.pubkey()))
    balances = chain.usdc_balances(addresses, mint)
    calls = [
        ("sandbox_mintTo", [address, usdc_each - (balance or 0), mint])
        for address, balance in balances.items()
        if (balance or 0) < usdc_each // 2
    ]
    for result, (_, params) in zip(chain.batch(calls), calls, strict=True):
        if result is None:
            raise RpcError(
                "sandbox_mintTo",
                f"sandbox_mintTo for payer {params[0]} failed: the chain refused the cheat code "
                "(is it a sandbox? does it need --admin-token?)",
            )
    return addresses


def ensure_token_account(chain: ChainAccounts, owner: str, mint: str) -> None:
    """The merchant must have a USDC account before anyone can pay it."""
    if chain.usdc_balances([owner], mint)[owner] is None:
        chain.call("sandbox_mintTo", owner, 0, mint)
