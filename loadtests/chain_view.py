"""What the hot path needs from the chain, over plain JSON-RPC through a Locust HTTP client.

One ChainView per process: a recent blockhash refreshed every `ttl` seconds by whichever user
finds it stale (the others keep signing with the previous one, which lives about a minute on
chain), and mint facts fetched once. The RPC calls go through the caller's FastHttpSession, so
they appear in Locust's table as `RPC <method>` and their failures are counted. (The wrapper's
before-and-after reads and funding are sandbox/loadtest/chain_accounts.py.)
"""

from __future__ import annotations

import base64
import itertools
import time
from typing import Any

import gevent.lock
import orjson
from solders.hash import Hash
from solders.pubkey import Pubkey

from sandbox.payer import MintInfo, parse_mint_account

__all__ = ["BLOCKHASH_TTL", "ChainView", "RpcFailed"]

BLOCKHASH_TTL = 2.0
_JSON = {"Content-Type": "application/json"}


class RpcFailed(RuntimeError):
    pass


class ChainView:
    def __init__(self, rpc_url: str, ttl: float = BLOCKHASH_TTL) -> None:
        self.rpc_url = rpc_url
        self.ttl = ttl
        self._blockhash: Hash | None = None
        self._fetched_at = 0.0
        self._fetching = False
        self._mints: dict[str, MintInfo] = {}
        self._mint_lock = gevent.lock.Semaphore()  # one fetch, however many users start at once
        self._ids = itertools.count(1)
        self.blockhash_fetches = 0

    def call(self, client: Any, method: str, params: list[Any] | None = None) -> Any:
        """One JSON-RPC call through `client` (a Locust FastHttpSession)."""
        body = orjson.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []}
        )
        with client.post(
            self.rpc_url, data=body, headers=_JSON, name=f"RPC {method}", catch_response=True
        ) as response:
            try:
                answer = orjson.loads(response.content or b"")
            except orjson.JSONDecodeError:
                answer = None
            if not isinstance(answer, dict) or "result" not in answer:
                error = answer.get("error") if isinstance(answer, dict) else None
                message = f"{method}: HTTP {response.status_code}, {error or 'no JSON-RPC result'}"
                response.failure(message)
                raise RpcFailed(message)
            response.success()
            return answer["result"]

    def blockhash(self, client: Any) -> Hash:
        now = time.monotonic()
        stale = self._blockhash is None or now - self._fetched_at >= self.ttl
        if stale and not (self._fetching and self._blockhash is not None):
            self._fetching = True
            try:
                result = self.call(client, "getLatestBlockhash", [{"commitment": "confirmed"}])
                self._blockhash = Hash.from_string(result["value"]["blockhash"])
                self._fetched_at = time.monotonic()
                self.blockhash_fetches += 1
            finally:
                self._fetching = False
        assert self._blockhash is not None
        return self._blockhash

    def mint(self, client: Any, address: str) -> MintInfo:
        cached = self._mints.get(address)
        if cached is not None:
            return cached
        with self._mint_lock:
            return self._fetch_mint(client, address)

    def _fetch_mint(self, client: Any, address: str) -> MintInfo:
        cached = self._mints.get(address)
        if cached is None:
            result = self.call(client, "getAccountInfo", [address, {"encoding": "base64"}])
            account = result.get("value") if isinstance(result, dict) else None
            if not account:
                raise RpcFailed(f"asset {address} does not exist on the chain at {self.rpc_url}")
            data = base64.b64decode(account["data"][0])
            cached = parse_mint_account(Pubkey.from_string(address), account["owner"], data)
            self._mints[address] = cached
        return cached
