"""PubSub as a validator does it, where @solana/kit showed we did not.

- Requests without an `id` (JSON-RPC notifications) get no reply: kit's subscription channel sends
  `{"jsonrpc": "2.0", "method": "ping"}` after 5 s without traffic and the validator stays silent
  (an error reply with `id: null` is a message kit never asked for).
- accountSubscribe notifies when a transaction wrote the account, not when it only read it (the
  USDC mint is read by every payment; its subscribers must not hear of each one).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

import websockets
from solders.hash import Hash

from sandbox.protocol.programs import associated_token_address

from .conftest import USDC
from .x402_tx import transfer_checked


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


async def test_account_notifications_only_for_written_accounts(fast_chain, wallets):
    fee_payer, owner, merchant = wallets
    merchant_ata = str(associated_token_address(merchant.pubkey(), USDC))
    async with websockets.connect(fast_chain.ws_url) as ws:
        subs = {}
        for key in (str(USDC), merchant_ata):  # read-only, written
            params = [key, {"encoding": "base64", "commitment": "processed"}]
            await ws.send(
                json.dumps(
                    {"jsonrpc": "2.0", "id": 1, "method": "accountSubscribe", "params": params}
                )
            )
            subs[json.loads(await ws.recv())["result"]] = key
        blockhash = Hash.from_string(fast_chain.rpc("getLatestBlockhash")["value"]["blockhash"])
        tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 9, blockhash)
        fast_chain.rpc(
            "sendTransaction", base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}
        )
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert subs[first["params"]["subscription"]] == merchant_ata
        with_more = asyncio.wait_for(ws.recv(), 1.0)
        try:
            extra = json.loads(await with_more)
        except TimeoutError:
            extra = None
    assert extra is None, f"notified for an account the transaction only read: {extra}"


async def test_account_notification_waits_for_late_confirmation_and_carries_the_new_state(
    fast_chain, wallets
):
    """Late-confirm fault: a confirmed accountSubscribe hears of the change once the block shows
    as confirmed, with the new amount (not at once with the old one, and not never)."""
    fee_payer, owner, merchant = wallets
    merchant_ata = str(associated_token_address(merchant.pubkey(), USDC))
    fast_chain.rpc("sandbox_setFaults", {"lateConfirmMs": 600})
    try:
        async with websockets.connect(fast_chain.ws_url) as ws:
            params = [merchant_ata, {"encoding": "jsonParsed", "commitment": "confirmed"}]
            await ws.send(
                json.dumps(
                    {"jsonrpc": "2.0", "id": 1, "method": "accountSubscribe", "params": params}
                )
            )
            assert isinstance(json.loads(await ws.recv())["result"], int)
            blockhash = Hash.from_string(fast_chain.rpc("getLatestBlockhash")["value"]["blockhash"])
            tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 9, blockhash)
            sent = time.monotonic()
            fast_chain.rpc(
                "sendTransaction", base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}
            )
            note = json.loads(await asyncio.wait_for(ws.recv(), 10))
            waited = time.monotonic() - sent
    finally:
        fast_chain.rpc("sandbox_setFaults", {"lateConfirmMs": 0})
    token = note["params"]["result"]["value"]["data"]["parsed"]["info"]["tokenAmount"]
    assert token["amount"] == "9", note
    assert waited >= 0.55, f"notified after {waited:.2f}s, before the block showed as confirmed"
