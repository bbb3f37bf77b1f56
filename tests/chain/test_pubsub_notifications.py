"""PubSub requests without an `id` (JSON-RPC notifications) get no reply, as from a validator.

@solana/kit's subscription channel sends `{"jsonrpc": "2.0", "method": "ping"}` after 5 s without
traffic; the validator stays silent, so must we (an error reply with `id: null` is a message kit
never asked for).
"""

from __future__ import annotations

import asyncio
import json

import websockets


async def test_ping_notification_gets_no_reply(fast_chain):
    async with websockets.connect(fast_chain.ws_url) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "ping"}))
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "noSuchMethod", "params": []}))
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "slotSubscribe"}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert first["id"] == 7 and isinstance(first["result"], int), first


async def test_requests_with_an_id_still_get_errors(fast_chain):
    async with websockets.connect(fast_chain.ws_url) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "ping"}))
        unknown = json.loads(await asyncio.wait_for(ws.recv(), 10))
        await ws.send(json.dumps({"jsonrpc": "2.0", "params": []}))  # no method: invalid request
        invalid = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert unknown["id"] == 3 and unknown["error"]["code"] == -32601
    assert invalid["id"] is None and invalid["error"]["code"] == -32600
