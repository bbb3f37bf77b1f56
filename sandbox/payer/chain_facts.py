"""What the payer must learn from the chain, cached: a recent blockhash and mint facts.

A blockhash is fetched at most once per `blockhash_ttl` seconds (concurrent callers share one
request) so a load test does not pay an RPC round trip per payment; a blockhash lives about
60-90 s on chain, so a TTL of a few seconds is safe. Mint decimals and token program never
change: fetched once per mint.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from solders.hash import Hash
from solders.pubkey import Pubkey

from sandbox.payer.errors import MintError
from sandbox.payer.rpc import RpcClient
from sandbox.protocol.exact_svm.client import MintInfo
from sandbox.protocol.programs import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID

__all__ = ["DEFAULT_BLOCKHASH_TTL", "ChainFacts", "parse_mint_account"]

DEFAULT_BLOCKHASH_TTL = 2.0
MINT_SIZE = 82  # SPL Mint layout; Token-2022 mints may be longer (extensions)
_DECIMALS_OFFSET = 44  # COption<Pubkey> (36) + supply u64 (8)
_INITIALIZED_OFFSET = 45

T = TypeVar("T")


def parse_mint_account(address: Pubkey, owner: str, data: bytes) -> MintInfo:
    """Decimals and token program from a mint account, or MintError saying why it is not one."""
    program = Pubkey.from_string(owner)
    if program not in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID):
        raise MintError(f"asset {address} is owned by {owner}, not by a token program: not a mint")
    if len(data) < MINT_SIZE:
        raise MintError(f"asset {address} is a {len(data)}-byte account, not a mint")
    if program == TOKEN_PROGRAM_ID and len(data) != MINT_SIZE:
        raise MintError(f"asset {address} is a token account, not a mint")
    if data[_INITIALIZED_OFFSET] != 1:
        raise MintError(f"mint {address} is not initialized")
    return MintInfo(address=address, decimals=data[_DECIMALS_OFFSET], token_program=program)


class ChainFacts:
    def __init__(
        self,
        rpc: RpcClient,
        blockhash_ttl: float = DEFAULT_BLOCKHASH_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpc = rpc
        self.blockhash_ttl = blockhash_ttl
        self._clock = clock
        self._blockhash: Hash | None = None
        self._fetched_at = 0.0
        self._mints: dict[Pubkey, MintInfo] = {}
        # One fetch in flight per key; concurrent callers await the same future.
        self._pending: dict[object, asyncio.Future[Any]] = {}
        self.blockhash_fetches = 0
        self.mint_fetches = 0

    async def _single_flight(self, key: object, fetch: Callable[[], Awaitable[T]]) -> T:
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await fetch()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited future logs nothing
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._pending[key]

    async def blockhash(self) -> Hash:
        if self._blockhash is not None and self._clock() - self._fetched_at < self.blockhash_ttl:
            return self._blockhash
        return await self._single_flight("blockhash", self._fetch_blockhash)

    async def _fetch_blockhash(self) -> Hash:
        text, _last_valid = await self.rpc.get_latest_blockhash()
        self.blockhash_fetches += 1
        self._blockhash, self._fetched_at = Hash.from_string(text), self._clock()
        return self._blockhash

    def forget_blockhash(self) -> None:
        """Next payment fetches a fresh blockhash (e.g. after the chain expired them)."""
        self._blockhash = None

    async def mint(self, address: str | Pubkey) -> MintInfo:
        key = address if isinstance(address, Pubkey) else Pubkey.from_string(address)
        cached = self._mints.get(key)
        if cached is not None:
            return cached
        return await self._single_flight(key, lambda: self._fetch_mint(key))

    async def _fetch_mint(self, key: Pubkey) -> MintInfo:
        account = await self.rpc.get_account_info(str(key))
        self.mint_fetches += 1
        if account is None:
            raise MintError(f"asset {key} does not exist on the chain at {self.rpc.url}")
        try:
            data = base64.b64decode(account["data"][0])
            owner = account["owner"]
        except (KeyError, IndexError, TypeError, ValueError):
            raise MintError(f"getAccountInfo for {key} answered an unexpected shape") from None
        info = parse_mint_account(key, owner, data)
        self._mints[key] = info
        return info

    def remember_mint(self, info: MintInfo) -> None:
        """Prime the cache (tests, or a caller that already knows the mint)."""
        self._mints[info.address] = info
