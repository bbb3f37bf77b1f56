"""A loopback reverse proxy that makes our server look v1-only to a client.

Our server answers a 402 with both the v1 JSON body and the v2 `PAYMENT-REQUIRED` header; the
SDK client reads the header first, so against our server it always pays in v2. Behind this proxy
the header is gone (and nothing else changes), so the client sees what a v1-only server sends and
must take its v1 path: the v1 body, an `X-PAYMENT` header, an `X-PAYMENT-RESPONSE` receipt.

    with V1OnlyProxy(server_url) as proxy:
        proxy.url          # what the client is given instead of server_url
        proxy.seen         # [{"path", "x-payment", "payment-signature"}] per request
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import aiohttp
from aiohttp import web

__all__ = ["V1OnlyProxy"]

HIDDEN = "payment-required"
# Hop-by-hop and length headers are the proxy's own business, never forwarded.
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class V1OnlyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.seen: list[dict[str, Any]] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> V1OnlyProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60), auto_decompress=False
        )
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
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
        self.seen.append(
            {
                "path": request.path_qs,
                "x-payment": request.headers.get("x-payment"),
                "payment-signature": request.headers.get("payment-signature"),
            }
        )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP | {"host"}}
        assert self._session is not None
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=await request.read(),
        ) as upstream:
            body = await upstream.read()
            kept = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP | {HIDDEN}}
            return web.Response(status=upstream.status, headers=kept, body=body)
