"""Waiting for a signature to reach a commitment: WebSocket signatureSubscribe, polling as fallback.

One WebSocket connection to the chain's PubSub carries every subscription. Each wait also checks
the status over JSON-RPC once right away (a block may close before the subscription is in place)
and then at an interval: slowly while the socket is up (a safety net), briskly when it is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import aiohttp
import orjson

from sandbox.facilitator.provider import Landed, SignatureStatus, reached
from sandbox.facilitator.rpc import ChainClient, ChainError

__all__ = ["SignatureWatcher"]

log = logging.getLogger("sandbox.facilitator")


class SignatureWatcher:
    def __init__(
        self,
        client: ChainClient,
        ws_url: str | None,
        commitment: str = "confirmed",
        *,
        poll_with_ws: float = 1.0,
        poll_without_ws: float = 0.2,
    ) -> None:
        self._client = client
        self._ws_url = ws_url
        self.commitment = commitment
        self._poll_with_ws = poll_with_ws
        self._poll_without_ws = poll_without_ws
        self._waiters: dict[str, list[asyncio.Future]] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._session: aiohttp.ClientSession | None = None
        self._request_sig: dict[int, str] = {}
        self._sub_sig: dict[int, str] = {}
        self._next_id = 0
        self._task: asyncio.Task | None = None
        self._connected = asyncio.Event()

    @property
    def ws_connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def start(self) -> None:
        if self._ws_url and self._task is None:
            self._session = aiohttp.ClientSession()
            self._task = asyncio.get_running_loop().create_task(self._run())
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._connected.wait(), timeout=2.0)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def status(self, signature: str) -> SignatureStatus | None:
        """(confirmationStatus, err, slot) from getSignatureStatuses, or None when unknown."""
        answer = await self._client.call(
            "getSignatureStatuses", [[signature], {"searchTransactionHistory": True}]
        )
        values = answer.get("value") if isinstance(answer, dict) else None
        entry = values[0] if isinstance(values, list) and values else None
        if not isinstance(entry, dict):
            return None
        err = entry.get("err")
        if err is None and isinstance(entry.get("status"), dict):
            err = entry["status"].get("Err")
        confirmations = entry.get("confirmations")
        if not isinstance(confirmations, int) or isinstance(confirmations, bool):
            confirmations = None
        return SignatureStatus(
            entry.get("confirmationStatus"), err, entry.get("slot"), confirmations
        )

    async def wait(
        self, signature: str, timeout: float, on_seen: Callable[[], None] | None = None
    ) -> Landed | None:
        """The landing at `commitment`, or None if it did not come within `timeout` seconds.
        `on_seen()` as soon as a status read finds the signature at any commitment."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._waiters.setdefault(signature, []).append(future)
        try:
            if self.ws_connected:
                await self._subscribe(signature)
            deadline = loop.time() + timeout
            while True:
                try:
                    found = await self.status(signature)
                except ChainError:
                    found = None
                if found is not None and on_seen is not None:
                    on_seen()
                    on_seen = None
                if found is not None and reached(found[0], self.commitment):
                    return Landed(found[1], found[2])
                if found is not None and found[1] is not None:
                    return Landed(found[1], found[2])  # failed transactions do not get better
                interval = self._poll_with_ws if self.ws_connected else self._poll_without_ws
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                done, _ = await asyncio.wait([future], timeout=min(interval, remaining))
                if done:
                    return future.result()
        finally:
            waiters = self._waiters.get(signature, [])
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self._waiters.pop(signature, None)

    async def _subscribe(self, signature: str) -> None:
        self._next_id += 1
        self._request_sig[self._next_id] = signature
        message = {
            "jsonrpc": "2.0",
            "id": self._next_id,
            "method": "signatureSubscribe",
            "params": [signature, {"commitment": self.commitment}],
        }
        try:
            await self._ws.send_bytes(orjson.dumps(message))
        except (aiohttp.ClientError, ConnectionError, RuntimeError, AttributeError):
            self._request_sig.pop(self._next_id, None)

    async def _run(self) -> None:
        while True:
            try:
                async with self._session.ws_connect(self._ws_url, heartbeat=20) as ws:
                    self._ws = ws
                    self._connected.set()
                    for signature in list(self._waiters):
                        await self._subscribe(signature)
                    async for message in ws:
                        if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                            self._handle(message.data)
                        elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                            break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any socket failure: fall back to polling, retry later
                log.debug("PubSub connection to %s failed: %s", self._ws_url, exc)
            self._ws = None
            self._connected.set()  # start() must not wait for a socket that is not coming
            self._request_sig.clear()
            self._sub_sig.clear()
            await asyncio.sleep(1.0)

    def _handle(self, raw: str | bytes) -> None:
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        if not isinstance(message, dict):
            return
        if "id" in message and message.get("id") in self._request_sig:
            signature = self._request_sig.pop(message["id"])
            if isinstance(message.get("result"), int):
                self._sub_sig[message["result"]] = signature
            return
        if message.get("method") != "signatureNotification":
            return
        params = message.get("params") or {}
        signature = self._sub_sig.pop(params.get("subscription"), None)
        result = params.get("result") or {}
        value = result.get("value")
        if signature is None or not isinstance(value, dict):
            return
        slot = (result.get("context") or {}).get("slot")
        for future in self._waiters.get(signature, []):
            if not future.done():
                future.set_result(Landed(value.get("err"), slot))
