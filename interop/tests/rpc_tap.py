"""A loopback JSON-RPC pass-through in front of the sandbox chain, for the agreement table.

SDK roles and our facilitator get the tap's URL as their RPC URL; it forwards every request
unchanged, except:
- just before forwarding a `sendTransaction` whose transaction names a *watched* token account,
  it empties that account on the chain (`sandbox_setAccount`). The transaction then passed its
  simulation (verify) but fails on chain: the "landed but failed" settlement, made deterministic
  instead of racing two payments against one balance;
- with `new_blockhash_per_call`, every `getLatestBlockhash` is preceded by
  `sandbox_advanceSlots(1)`, so no two callers ever see the same blockhash (an SDK server's
  per-request hints then always differ between a 402 and its paid retry).

    with RpcTap(chain.rpc_url) as tap:
        tap.url                      # give this to the facilitators
        tap.drain_on_send(ata)       # the next sendTransaction touching `ata` finds it empty
"""

from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

import aiohttp
from aiohttp import web
from solders.transaction import VersionedTransaction

__all__ = ["RpcTap"]

TOKEN_AMOUNT = slice(64, 72)  # SPL token account layout: mint, owner, amount (u64 LE), ...


class RpcTap:
    def __init__(self, upstream: str, *, new_blockhash_per_call: bool = False) -> None:
        self.upstream = upstream
        self.new_blockhash_per_call = new_blockhash_per_call
        self.blockhashes_served = 0
        self.drained: list[str] = []
        self._watched: set[str] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    def drain_on_send(self, token_account: str) -> None:
        self._watched.add(token_account)

    def __enter__(self) -> RpcTap:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            parsed = await request.json()
        except ValueError:
            parsed = None
        items = parsed if isinstance(parsed, list) else [parsed]
        for item in items:
            method = item.get("method") if isinstance(item, dict) else None
            if method == "sendTransaction":
                for account in self._watched_accounts(item.get("params") or []):
                    await self._drain(account)
            elif method == "getLatestBlockhash" and self.new_blockhash_per_call:
                await self._call("sandbox_advanceSlots", 1)
                self.blockhashes_served += 1
        assert self._session is not None
        async with self._session.post(
            self.upstream, data=body, headers={"Content-Type": "application/json"}
        ) as upstream:
            return web.Response(
                body=await upstream.read(),
                status=upstream.status,
                content_type="application/json",
            )

    def _watched_accounts(self, params: list[Any]) -> list[str]:
        if not self._watched or not params or not isinstance(params[0], str):
            return []
        options = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
        if options.get("encoding") != "base64":
            return []  # both facilitators send base64; anything else passes untouched
        try:
            raw = base64.b64decode(params[0])
            keys = {str(k) for k in VersionedTransaction.from_bytes(raw).message.account_keys}
        except ValueError:
            return []
        return sorted(keys & self._watched)

    async def _drain(self, token_account: str) -> None:
        """Set the token account's amount to 0, keeping everything else as it is."""
        info = await self._call("getAccountInfo", token_account, {"encoding": "base64"})
        value = info["value"]
        data = bytearray(base64.b64decode(value["data"][0]))
        data[TOKEN_AMOUNT] = bytes(8)
        account = {
            "lamports": value["lamports"],
            "data": base64.b64encode(bytes(data)).decode(),
            "owner": value["owner"],
            "executable": value["executable"],
        }
        await self._call("sandbox_setAccount", token_account, account)
        self._watched.discard(token_account)
        self.drained.append(token_account)

    async def _call(self, method: str, *params: Any) -> Any:
        assert self._session is not None
        request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        async with self._session.post(self.upstream, json=request) as response:
            answer = await response.json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]
