"""The real `ChainProvider`: JSON-RPC calls (`ChainClient`) and PubSub waits (`SignatureWatcher`).

Built once by `create_app` from the settings; the facilitator never builds its own.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.facilitator.confirm import SignatureWatcher
from sandbox.facilitator.metrics import FacilitatorMetrics
from sandbox.facilitator.provider import Landed, SignatureStatus, Simulation
from sandbox.facilitator.rpc import ChainClient, ChainUnavailable, RpcError
from sandbox.facilitator.settings import Settings

__all__ = ["RpcChain"]

_SIMULATE = {
    "encoding": "base64",
    "sigVerify": False,
    "replaceRecentBlockhash": False,
    "commitment": "processed",
}
_SEND = {"encoding": "base64", "skipPreflight": True}
_PROCESSED = {"commitment": "processed"}
_HISTORY = {"searchTransactionHistory": True}


class RpcChain:
    def __init__(self, client: ChainClient, watcher: SignatureWatcher) -> None:
        self.client = client
        self.watcher = watcher

    @classmethod
    def from_settings(cls, settings: Settings, metrics: FacilitatorMetrics) -> RpcChain:
        client = ChainClient(
            settings.rpc_url,
            timeout=settings.rpc_timeout,
            batching=settings.rpc_batching,
            observe=metrics.chain_call,
        )
        return cls(client, SignatureWatcher(client, settings.websocket_url(), settings.commitment))

    async def start(self) -> None:
        await self.watcher.start()

    async def close(self) -> None:
        await self.watcher.close()
        await self.client.close()

    @property
    def pubsub_connected(self) -> bool:
        return self.watcher.ws_connected

    async def genesis_hash(self) -> str | None:
        genesis = await self.client.call("getGenesisHash")
        return genesis if isinstance(genesis, str) else None

    async def balance(self, address: str) -> int | None:
        answer = await self.client.call("getBalance", [address])
        return answer.get("value") if isinstance(answer, dict) else None

    async def simulate(self, transaction: str) -> Simulation:
        """Tried twice; an RpcError only when the chain refused the transaction itself (-32602)."""
        params = [transaction, _SIMULATE]
        for attempt in (1, 2):
            try:
                answer = await self.client.call("simulateTransaction", params)
                break
            except RpcError as exc:
                if exc.code == -32602:  # the chain refused the transaction itself
                    raise
                if attempt == 2:
                    raise ChainUnavailable(f"simulation failed on the chain: {exc}") from None
            except ChainUnavailable:
                if attempt == 2:
                    raise
        value = answer.get("value") if isinstance(answer, dict) else None
        if not isinstance(value, dict):
            raise ChainUnavailable("the chain's simulateTransaction answer has no value")
        return Simulation(value.get("err"), value.get("logs") or [])

    async def send(self, transaction: str) -> None:
        await self.client.call("sendTransaction", [transaction, _SEND])

    async def status(self, signature: str) -> SignatureStatus | None:
        return await self.watcher.status(signature)

    async def wait(
        self, signature: str, timeout: float, on_seen: Callable[[], None] | None = None
    ) -> Landed | None:
        return await self.watcher.wait(signature, timeout, on_seen)

    async def blockhash_valid(self, blockhash: str) -> bool:
        answer = await self.client.call("isBlockhashValid", [blockhash, _PROCESSED])
        return bool(answer.get("value")) if isinstance(answer, dict) else False
