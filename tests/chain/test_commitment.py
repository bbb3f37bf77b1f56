"""Slots and commitment: processed -> confirmed when the block closes -> finalized later."""

from __future__ import annotations

import asyncio
import base64
import time

import httpx
import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed, Finalized
from solana.rpc.models import TxOpts
from solana.rpc.websocket_api import SolanaWsClient
from solders.keypair import Keypair
from solders.sysvar import CLOCK

from sandbox.chain.testing import start_chain
from sandbox.protocol.programs import associated_token_address

from .conftest import USDC
from .x402_tx import transfer_checked


def _fund(chain):
    fee_payer, owner, merchant = Keypair(), Keypair(), Keypair()
    chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 10**9)
    chain.rpc("sandbox_mintTo", str(owner.pubkey()), 1_000_000)
    chain.rpc("sandbox_mintTo", str(merchant.pubkey()), 0)
    return fee_payer, owner, merchant


async def _poll(client, sig, level: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = (await client.get_signature_statuses([sig])).value[0]
        if status is not None and str(status.confirmation_status).endswith(level):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sig} never reached {level}")


@pytest.fixture(scope="module")
def slow_chain():
    with start_chain(slot_ms=400, finalize_slots=2) as running:
        yield running


async def test_processed_then_confirmed_then_finalized(slow_chain):
    fee_payer, owner, merchant = _fund(slow_chain)
    blockhash = (await AsyncClient(slow_chain.rpc_url).get_latest_blockhash()).value.blockhash
    tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 5, blockhash)
    sig = tx.signatures[0]
    # Send and read the status in one batch: answered in the same block, before it closes.
    body = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "sendTransaction",
            "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}],
        },
        {"jsonrpc": "2.0", "id": 2, "method": "getSignatureStatuses", "params": [[str(sig)]]},
    ]
    async with httpx.AsyncClient() as http:
        sent, status = (await http.post(slow_chain.rpc_url, json=body)).json()
    assert sent["result"] == str(sig)
    first = status["result"]["value"][0]
    assert first["confirmationStatus"] == "processed" and first["confirmations"] == 0
    async with AsyncClient(slow_chain.rpc_url) as client:
        # Not visible to getTransaction at confirmed until its block closes.
        confirmed = await _poll(client, sig, "Confirmed")
        assert confirmed.slot == first["slot"] and confirmed.confirmations is not None
        assert (await client.get_transaction(sig, "json", Confirmed, 0)).value is not None
        assert (await client.get_transaction(sig, "json", Finalized, 0)).value is None
        finalized = await _poll(client, sig, "Finalized")
        assert finalized.confirmations is None
        assert (await client.get_transaction(sig, "json", Finalized, 0)).value is not None
        slots = {
            c: (await client.get_slot(c)).value for c in ("processed", "confirmed", "finalized")
        }
    assert slots["processed"] > slots["confirmed"] > slots["finalized"]


async def test_clock_sysvar_follows_wall_time(slow_chain):
    async with AsyncClient(slow_chain.rpc_url) as client:
        clock = (await client.get_account_info(CLOCK)).value
    unix_timestamp = int.from_bytes(bytes(clock.data)[32:40], "little", signed=True)
    assert abs(unix_timestamp - time.time()) < 5


async def test_signature_subscribe_notifies_at_commitment(slow_chain):
    fee_payer, owner, merchant = _fund(slow_chain)
    async with AsyncClient(slow_chain.rpc_url) as client, SolanaWsClient(slow_chain.ws_url) as ws:
        blockhash = (await client.get_latest_blockhash()).value.blockhash
        tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 7, blockhash)
        sub = await ws.signature_subscribe(signature=tx.signatures[0], commitment=Confirmed)
        started = time.monotonic()
        await client.send_transaction(tx, opts=TxOpts(skip_preflight=True))
        note = await asyncio.wait_for(ws.recv(), 10)
        assert note.subscription == sub.subscription_id
        assert note.result.value.err is None
        status = (await client.get_signature_statuses([tx.signatures[0]])).value[0]
        assert str(status.confirmation_status).endswith(("Confirmed", "Finalized"))
        assert time.monotonic() - started < 5


async def test_slot_and_account_subscriptions(slow_chain):
    fee_payer, owner, merchant = _fund(slow_chain)
    merchant_ata = associated_token_address(merchant.pubkey(), USDC)
    async with AsyncClient(slow_chain.rpc_url) as client, SolanaWsClient(slow_chain.ws_url) as ws:
        slot_sub = await ws.slot_subscribe()
        note = await asyncio.wait_for(ws.recv(), 5)
        assert note.subscription == slot_sub.subscription_id and note.result.slot > 0
        await ws.unsubscribe(slot_sub)
        account_sub = await ws.account_subscribe(
            pubkey=merchant_ata, commitment=Confirmed, encoding="jsonParsed"
        )
        blockhash = (await client.get_latest_blockhash()).value.blockhash
        tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 9, blockhash)
        await client.send_transaction(tx, opts=TxOpts(skip_preflight=True))
        while True:  # a slot notification may still be in flight
            note = await asyncio.wait_for(ws.recv(), 5)
            if note.subscription == account_sub.subscription_id:
                break
        assert note.result.value.data.parsed["info"]["tokenAmount"]["amount"] == "9"
        await ws.unsubscribe(account_sub)
