"""Chain faults do what they say: latency, dropped transactions, late confirmation, errors."""

from __future__ import annotations

import asyncio
import base64
import time

import httpx
import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.models import TxOpts
from solders.keypair import Keypair

from sandbox.chain.testing import start_chain

from .conftest import USDC
from .x402_tx import transfer_checked


def _payment(chain):
    fee_payer, owner, merchant = Keypair(), Keypair(), Keypair()
    chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 10**9)
    chain.rpc("sandbox_mintTo", str(owner.pubkey()), 1_000_000)
    chain.rpc("sandbox_mintTo", str(merchant.pubkey()), 0)
    blockhash = chain.rpc("getLatestBlockhash")["value"]["blockhash"]
    from solders.hash import Hash

    return transfer_checked(
        owner, fee_payer, USDC, merchant.pubkey(), 1, Hash.from_string(blockhash)
    )


def test_latency_flag_delays_every_answer():
    with start_chain(slot_ms=0, fault_latency_ms=300) as chain:
        started = time.perf_counter()
        assert chain.rpc("getSlot") >= 0
        assert time.perf_counter() - started >= 0.3
        assert chain.rpc("sandbox_getFaults")["latencyMs"] == 300
        chain.rpc("sandbox_setFaults", {"latencyMs": 0})
        started = time.perf_counter()
        chain.rpc("getSlot")
        assert time.perf_counter() - started < 0.3


async def test_dropped_transaction_is_answered_but_never_lands(fast_chain):
    tx = _payment(fast_chain)
    fast_chain.rpc("sandbox_setFaults", {"dropRate": 1})
    try:
        async with AsyncClient(fast_chain.rpc_url) as client:
            sig = (await client.send_transaction(tx, opts=TxOpts(skip_preflight=True))).value
            assert sig == tx.signatures[0]
            assert (await client.get_signature_statuses([sig])).value == [None]
    finally:
        fast_chain.rpc("sandbox_setFaults", {"dropRate": 0})
    assert fast_chain.rpc("sandbox_getInfo")["stats"]["droppedByFault"] >= 1


async def test_late_confirmation_holds_processed(fast_chain):
    tx = _payment(fast_chain)
    fast_chain.rpc("sandbox_setFaults", {"lateConfirmMs": 700})
    try:
        async with AsyncClient(fast_chain.rpc_url) as client:
            sig = (await client.send_transaction(tx, opts=TxOpts(skip_preflight=True))).value
            sent = time.monotonic()
            status = (await client.get_signature_statuses([sig])).value[0]
            assert str(status.confirmation_status).endswith("Processed")
            while True:
                status = (await client.get_signature_statuses([sig])).value[0]
                if not str(status.confirmation_status).endswith("Processed"):
                    break
                assert time.monotonic() - sent < 10
                time.sleep(0.05)
            assert time.monotonic() - sent >= 0.6
    finally:
        fast_chain.rpc("sandbox_setFaults", {"lateConfirmMs": 0})


def test_error_rate_fails_a_share_of_requests(fast_chain):
    fast_chain.rpc("sandbox_setFaults", {"errorRate": 0.5})
    try:
        body = [{"jsonrpc": "2.0", "id": i, "method": "getSlot"} for i in range(400)]
        answers = httpx.post(fast_chain.rpc_url, json=body).json()
    finally:
        fast_chain.rpc("sandbox_setFaults", {"errorRate": 0})
    failed = [a for a in answers if "error" in a]
    assert 120 < len(failed) < 280
    assert {a["error"]["code"] for a in failed} == {-32005}
    assert all("result" in a for a in httpx.post(fast_chain.rpc_url, json=body).json())


@pytest.mark.parametrize(
    ("faults", "named"),
    [({"dropRate": 2}, "dropRate"), ({"bogus": 1}, "bogus"), ({"latencyMs": -1}, "latencyMs")],
)
def test_bad_fault_settings_are_refused_by_name(fast_chain, faults, named):
    answer = httpx.post(
        fast_chain.rpc_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "sandbox_setFaults", "params": [faults]},
    ).json()
    assert answer["error"]["code"] == -32602 and named in answer["error"]["message"]


async def test_late_confirmation_delays_signature_notification(fast_chain):
    from solana.rpc.commitment import Confirmed
    from solana.rpc.websocket_api import SolanaWsClient

    tx = _payment(fast_chain)
    fast_chain.rpc("sandbox_setFaults", {"lateConfirmMs": 500})
    try:
        async with SolanaWsClient(fast_chain.ws_url) as ws:
            await ws.signature_subscribe(signature=tx.signatures[0], commitment=Confirmed)
            sent = time.monotonic()
            fast_chain.rpc(
                "sendTransaction", base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}
            )
            note = await asyncio.wait_for(ws.recv(), 10)
            assert note.result.value.err is None
            assert time.monotonic() - sent >= 0.45
    finally:
        fast_chain.rpc("sandbox_setFaults", {"lateConfirmMs": 0})
