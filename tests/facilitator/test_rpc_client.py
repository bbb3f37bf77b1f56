"""The chain client: batching of concurrent calls and error translation, against the real chain."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.facilitator.rpc import ChainClient, ChainUnavailable, RpcError
from sandbox.processes import free_port


async def test_rpc_errors_and_unreachable_chain_are_named(chain0):
    client = ChainClient(chain0.rpc_url)
    try:
        with pytest.raises(RpcError) as error:
            await client.call("noSuchMethod")
        assert error.value.code == -32601
        # A bad call in a batch does not spoil the others.
        good, bad = await asyncio.gather(
            client.call("getSlot"), client.call("noSuchMethod"), return_exceptions=True
        )
        assert isinstance(good, int) and isinstance(bad, RpcError)
    finally:
        await client.close()
    dead = ChainClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    try:
        with pytest.raises(ChainUnavailable):
            await dead.call("getSlot")
    finally:
        await dead.close()


async def test_concurrent_calls_are_coalesced_into_few_http_requests(chain0):
    posts = 0
    client = ChainClient(chain0.rpc_url, max_inflight=1)
    original = client._post

    async def counting(body):
        nonlocal posts
        posts += 1
        return await original(body)

    client._post = counting
    try:
        slots = await asyncio.gather(*(client.call("getSlot") for _ in range(40)))
    finally:
        await client.close()
    assert all(isinstance(slot, int) for slot in slots)
    assert posts <= 3, posts  # one alone, then the rest batched while it was in flight
