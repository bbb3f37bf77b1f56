"""X402ClientSync: the blocking face of X402Client, for scripts, CLIs and threads.

It runs one private event loop in a daemon thread, so it works even when called from code that
already runs an event loop (where `asyncio.run` would refuse).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from solders.keypair import Keypair

from sandbox.payer.client import X402Client, X402Response
from sandbox.payer.payment import Payment
from sandbox.protocol import AnyRequirements

__all__ = ["X402ClientSync"]

T = TypeVar("T")


class X402ClientSync:
    """Same arguments as X402Client; methods block and return the same results."""

    def __init__(self, keypair: Keypair, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="x402-client-loop", daemon=True
        )
        self._thread.start()
        # aiohttp objects must be created on the loop that uses them.
        self._client: X402Client = self._run(self._create(keypair, options))

    @staticmethod
    async def _create(keypair: Keypair, options: dict[str, Any]) -> X402Client:
        return X402Client(keypair, **options)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._loop.is_closed():
            coroutine.close()
            raise RuntimeError("this X402ClientSync is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    @property
    def client(self) -> X402Client:
        return self._client

    @property
    def address(self) -> str:
        return self._client.address

    def request(self, method: str, url: str, **kwargs: Any) -> X402Response:
        return self._run(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> X402Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> X402Response:
        return self.request("POST", url, **kwargs)

    def sign_in(self, url: str, **kwargs: Any) -> X402Response:
        """Sign in with sign-in-with-x instead of paying (X402Client.sign_in)."""
        return self._run(self._client.sign_in(url, **kwargs))

    def prepare(self, requirements: AnyRequirements, resource: Any = None) -> Payment:
        return self._run(self._client.prepare(requirements, resource))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._client.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> X402ClientSync:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
