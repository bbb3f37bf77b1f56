"""A small Solana JSON-RPC client on aiohttp: only what the payer needs.

aiohttp because it stays fast at 64+ concurrent requests where httpx collapses
(shared/reference/performance-notes.md); load tests run many payers on one event loop.
"""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
import orjson

from sandbox.payer.errors import RpcError, RpcUnreachable

__all__ = ["RpcClient"]


class RpcClient:
    """JSON-RPC 2.0 over HTTP POST. Pass a session to share its connection pool; otherwise the
    client opens one on first use and closes it in `close()`."""

    def __init__(
        self,
        url: str,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        # Extra headers with every call: an admin token for a sandbox's cheat codes.
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ids = itertools.count(1)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(json_serialize=lambda x: orjson.dumps(x).decode())
            self._owns_session = True
        return self._session

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        body = orjson.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []}
        )
        session = self._get_session()
        try:
            async with session.post(
                self.url,
                data=body,
                headers=self._headers,
                timeout=self._timeout,
            ) as response:
                raw = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise RpcUnreachable(self.url, method, str(exc) or type(exc).__name__) from None
        try:
            answer = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise RpcUnreachable(
                self.url, method, f"HTTP {status} with a body that is not JSON-RPC"
            ) from None
        if not isinstance(answer, dict):
            raise RpcUnreachable(self.url, method, f"HTTP {status}: not a JSON-RPC response")
        error = answer.get("error")
        if error is not None:
            if isinstance(error, dict):
                raise RpcError(
                    method, str(error.get("message", error)), error.get("code"), error.get("data")
                )
            raise RpcError(method, str(error))
        if "result" not in answer:
            raise RpcUnreachable(self.url, method, f"HTTP {status}: JSON-RPC answer has no result")
        return answer["result"]

    async def get_latest_blockhash(self, commitment: str = "confirmed") -> tuple[str, int]:
        result = await self.call("getLatestBlockhash", [{"commitment": commitment}])
        try:
            value = result["value"]
            return value["blockhash"], int(value["lastValidBlockHeight"])
        except (KeyError, TypeError, ValueError):
            raise RpcError("getLatestBlockhash", f"unexpected result {result!r}") from None

    async def get_account_info(self, address: str) -> dict[str, Any] | None:
        """The account (`owner`, `data` as [base64, "base64"], ...) or None if it does not exist."""
        result = await self.call("getAccountInfo", [address, {"encoding": "base64"}])
        if not isinstance(result, dict) or "value" not in result:
            raise RpcError("getAccountInfo", f"unexpected result {result!r}")
        return result["value"]

    async def close(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
