"""Readiness covers PubSub: /health answers 200 only once the PubSub port is bound too."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import websockets

from sandbox.chain.app import serve
from sandbox.chain.pubsub import PubSub
from sandbox.chain.settings import ChainSettings
from sandbox.processes import free_port_pair


async def test_health_waits_for_pubsub(monkeypatch):
    entered, release = asyncio.Event(), asyncio.Event()
    original = PubSub.serve

    async def slow_serve(self, host, port):
        entered.set()
        await release.wait()
        return await original(self, host, port)

    monkeypatch.setattr(PubSub, "serve", slow_serve)
    port = free_port_pair("127.0.0.1")
    settings = ChainSettings(port=port, slot_ms=0)
    task = asyncio.create_task(serve(settings))
    url = f"http://127.0.0.1:{port}/health"
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await asyncio.wait_for(entered.wait(), 60)
            try:
                early = (await client.get(url)).status_code
            except httpx.ConnectError:
                early = None  # not listening yet: what a readiness probe should see
            assert early != 200
            release.set()
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.ConnectError):
                    if (await client.get(url)).status_code == 200:
                        break
                assert time.monotonic() < deadline, "/health never answered 200"
                await asyncio.sleep(0.02)
        async with websockets.connect(f"ws://127.0.0.1:{settings.pubsub_port}") as ws:
            await ws.send('{"jsonrpc":"2.0","id":1,"method":"slotSubscribe"}')
            assert '"result"' in await asyncio.wait_for(ws.recv(), 10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
