"""Optional second opinion on a settlement receipt: is its signature on chain, without error?

Enabled by giving the server an RPC URL. The facilitator's word is otherwise all the server has;
this catches a facilitator that reports success without sending (or whose transaction failed).

    problem(signature) -> None                       landed without error, confirmed or finalized
                       -> ReceiptProblem(final=True)  the chain shows it failed: never served
                       -> ReceiptProblem(final=False) not shown yet: RPC errors on every attempt,
                                                      or not confirmed within the attempts; the
                                                      payment stays pending, a resend asks again
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

import aiohttp
import orjson

__all__ = ["ChainReceiptCheck", "ReceiptProblem"]


@dataclass(frozen=True, slots=True)
class ReceiptProblem:
    message: str
    final: bool  # True: failed on chain; False: the chain could not show it yet


class ChainReceiptCheck:
    def __init__(self, rpc_url: str, timeout: float = 5.0, attempts: int = 6) -> None:
        self.rpc_url = rpc_url
        self.timeout = timeout
        self.attempts = attempts
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=128),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def problem(self, signature: str) -> ReceiptProblem | None:
        """None when `signature` landed without error at confirmed or finalized; else why not.

        An RPC error is retried like a status not confirmed yet (a transient chain error must
        not turn a settled payment into a refused one)."""
        delay = 0.05
        unasked = ""
        for _ in range(self.attempts):
            try:
                status = await self._status(signature)
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as exc:
                unasked = f"could not ask the chain about {signature}: {exc or type(exc).__name__}"
                status = None
            else:
                unasked = ""
            if status is not None:
                if status.get("err") is not None:
                    return ReceiptProblem(
                        f"transaction {signature} failed on chain: {status['err']}", final=True
                    )
                if status.get("confirmationStatus") in ("confirmed", "finalized"):
                    return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        return ReceiptProblem(
            unasked or f"transaction {signature} is not confirmed on chain", final=False
        )

    async def _status(self, signature: str) -> dict | None:
        request = {
            "jsonrpc": "2.0",
            "id": next(self._ids),
            "method": "getSignatureStatuses",
            "params": [[signature], {"searchTransactionHistory": True}],
        }
        async with self._client().post(
            self.rpc_url, data=orjson.dumps(request), headers={"Content-Type": "application/json"}
        ) as response:
            answer = orjson.loads(await response.read())
        if "error" in answer:
            raise ValueError(f"RPC error {answer['error']}")
        return answer["result"]["value"][0]
