"""What the dashboard reads from the chain: balances of the stack's wallets, an account's recent
transactions, one transaction decoded. Plain JSON-RPC over HTTP, batched where it can be."""

from __future__ import annotations

from typing import Any

import httpx
from solders.pubkey import Pubkey

from sandbox.dashboard.decode import describe_transaction
from sandbox.protocol.programs import associated_token_address

__all__ = ["ChainView", "ChainViewError"]

CONFIRMED = {"commitment": "confirmed"}


class ChainViewError(RuntimeError):
    """The chain did not answer as expected; the message says what happened."""


class ChainView:
    def __init__(self, client: httpx.AsyncClient, rpc_url: str, usdc_mint: str) -> None:
        self.client, self.rpc_url = client, rpc_url
        self.mint = Pubkey.from_string(usdc_mint)

    async def _batch(self, calls: list[tuple[str, list]]) -> list[dict[str, Any]]:
        body = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        try:
            answer = await self.client.post(self.rpc_url, json=body, timeout=5.0)
            answers = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChainViewError(f"the chain at {self.rpc_url} did not answer: {exc}") from None
        if not isinstance(answers, list):
            raise ChainViewError(f"the chain answered {answers!r}")
        return sorted(answers, key=lambda item: item.get("id", 0))

    def token_account(self, owner: str) -> str:
        return str(associated_token_address(Pubkey.from_string(owner), self.mint))

    async def balances(self, wallets: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """name, address, SOL and USDC (as dollars; None without a token account) per wallet."""
        calls: list[tuple[str, list]] = []
        for _name, address in wallets:
            calls.append(("getBalance", [address, CONFIRMED]))
            calls.append(("getTokenAccountBalance", [self.token_account(address), CONFIRMED]))
        answers = await self._batch(calls) if calls else []
        rows = []
        for i, (name, address) in enumerate(wallets):
            sol, usdc = answers[2 * i], answers[2 * i + 1]
            lamports = (sol.get("result") or {}).get("value")
            token = (usdc.get("result") or {}).get("value") or {}
            rows.append(
                {
                    "name": name,
                    "address": address,
                    "tokenAccount": self.token_account(address),
                    "sol": None if lamports is None else lamports / 1e9,
                    "usdc": float(token["uiAmountString"]) if "uiAmountString" in token else None,
                }
            )
        return rows

    async def account(self, address: str) -> dict[str, Any]:
        """An account's balances and its latest transactions (its own and its USDC account's)."""
        token_account = self.token_account(address)
        answers = await self._batch(
            [
                ("getBalance", [address, CONFIRMED]),
                ("getTokenAccountBalance", [token_account, CONFIRMED]),
                ("getSignaturesForAddress", [address, {"limit": 25, **CONFIRMED}]),
                ("getSignaturesForAddress", [token_account, {"limit": 25, **CONFIRMED}]),
            ]
        )
        lamports = (answers[0].get("result") or {}).get("value")
        token = (answers[1].get("result") or {}).get("value") or {}
        seen: dict[str, dict[str, Any]] = {}
        for answer in answers[2:]:
            for item in answer.get("result") or []:
                seen.setdefault(item["signature"], item)
        recent = sorted(seen.values(), key=lambda item: item.get("slot") or 0, reverse=True)
        return {
            "address": address,
            "tokenAccount": token_account,
            "sol": None if lamports is None else lamports / 1e9,
            "usdc": float(token["uiAmountString"]) if "uiAmountString" in token else None,
            "transactions": recent[:25],
        }

    async def transaction(self, signature: str) -> dict[str, Any] | None:
        """The transaction decoded (decode.py), or None when the chain does not know it."""
        config = {"encoding": "base64", "maxSupportedTransactionVersion": 0, **CONFIRMED}
        (answer,) = await self._batch([("getTransaction", [signature, config])])
        if "error" in answer:
            raise ChainViewError(answer["error"].get("message", "getTransaction failed"))
        result = answer.get("result")
        return None if result is None else describe_transaction(result)

    async def faults(self, token: str | None) -> dict[str, Any]:
        return await self.cheat("sandbox_getFaults", [], token)

    async def cheat(self, method: str, params: list, token: str | None) -> dict[str, Any]:
        """A cheat code, with the admin token (the chain refuses it beyond loopback without)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        try:
            answer = (
                await self.client.post(self.rpc_url, json=body, headers=headers, timeout=5.0)
            ).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChainViewError(f"the chain at {self.rpc_url} did not answer: {exc}") from None
        if "error" in answer:
            raise ChainViewError(answer["error"].get("message", f"{method} failed"))
        return answer["result"]
