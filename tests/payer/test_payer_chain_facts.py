"""Mint facts and blockhashes from JSON-RPC: parsing, caching, and errors that say what failed."""

from __future__ import annotations

import asyncio

import pytest
from payer_fake_server import FakePaidServer
from payer_ledger import InProcessChain
from solders.pubkey import Pubkey
from solders.token.state import Mint, TokenAccount, TokenAccountState

from sandbox.payer import (
    ChainFacts,
    MintError,
    MintInfo,
    RpcClient,
    RpcError,
    RpcUnreachable,
    parse_mint_account,
)
from sandbox.processes import free_port
from sandbox.protocol import SYSTEM_PROGRAM_ID, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID

MINT = Pubkey.new_unique()


def mint_bytes(decimals: int = 6, initialized: bool = True) -> bytes:
    return bytes(Mint(None, 0, decimals, initialized, None))


def test_parse_mint_account() -> None:
    info = parse_mint_account(MINT, str(TOKEN_PROGRAM_ID), mint_bytes(9))
    assert info == MintInfo(MINT, 9, TOKEN_PROGRAM_ID)
    # Token-2022 mints may carry extensions after the base layout
    extended = mint_bytes(2) + bytes(83) + b"\x01"
    assert parse_mint_account(MINT, str(TOKEN_2022_PROGRAM_ID), extended).decimals == 2


def test_not_a_mint_is_named() -> None:
    with pytest.raises(MintError, match="not by a token program"):
        parse_mint_account(MINT, str(SYSTEM_PROGRAM_ID), mint_bytes())
    with pytest.raises(MintError, match="5-byte account"):
        parse_mint_account(MINT, str(TOKEN_PROGRAM_ID), b"\x00" * 5)
    token_account = TokenAccount(
        MINT, Pubkey.new_unique(), 1, None, TokenAccountState.Initialized, None, 0, None
    )
    with pytest.raises(MintError, match="is a token account, not a mint"):
        parse_mint_account(MINT, str(TOKEN_PROGRAM_ID), bytes(token_account))
    with pytest.raises(MintError, match="not initialized"):
        parse_mint_account(MINT, str(TOKEN_PROGRAM_ID), mint_bytes(initialized=False))


async def test_mint_from_the_chain_once(paywall: FakePaidServer, ledger: InProcessChain) -> None:
    async with RpcClient(paywall.rpc_url) as rpc:
        facts = ChainFacts(rpc)
        first, second = await asyncio.gather(facts.mint(ledger.mint), facts.mint(str(ledger.mint)))
        assert first == second == ledger.mint_info
        with pytest.raises(MintError, match="does not exist on the chain"):
            await facts.mint(Pubkey.new_unique())
        with pytest.raises(MintError, match="not by a token program"):
            await facts.mint(ledger.fee_payer.pubkey())
    assert facts.mint_fetches == 3


async def test_blockhash_cache_obeys_its_clock(
    paywall: FakePaidServer, ledger: InProcessChain
) -> None:
    now = [100.0]
    async with RpcClient(paywall.rpc_url) as rpc:
        facts = ChainFacts(rpc, blockhash_ttl=2.0, clock=lambda: now[0])
        assert await facts.blockhash() == ledger.blockhash
        now[0] += 1.9
        await facts.blockhash()
        assert facts.blockhash_fetches == 1
        now[0] += 0.2
        await facts.blockhash()
        assert facts.blockhash_fetches == 2
        facts.forget_blockhash()
        await facts.blockhash()
        assert facts.blockhash_fetches == 3


async def test_rpc_errors_are_named(paywall: FakePaidServer) -> None:
    async with RpcClient(paywall.rpc_url) as rpc:
        with pytest.raises(RpcError, match="RPC getNothing failed: Method not found") as info:
            await rpc.call("getNothing")
        assert info.value.code == -32601
    async with RpcClient(f"{paywall.url}/free") as rpc:  # answers, but not JSON-RPC
        with pytest.raises(RpcUnreachable, match="not JSON-RPC"):
            await rpc.call("getSlot")


async def test_failed_fetch_reaches_every_waiter_and_is_retried() -> None:
    dead = RpcClient(f"http://127.0.0.1:{free_port()}", timeout=5)
    facts = ChainFacts(dead)
    results = await asyncio.gather(*(facts.blockhash() for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RpcUnreachable) for r in results)
    with pytest.raises(RpcUnreachable):  # nothing cached: the next call tries again
        await facts.blockhash()
    await dead.close()
