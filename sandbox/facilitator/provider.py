"""What the facilitator needs from a chain: the `ChainProvider` protocol and its value types.

The facilitator reaches the chain only through this seam. `RpcChain` (rpc_chain.py) implements
it over JSON-RPC and PubSub (`ChainClient` + `SignatureWatcher`); a test double implements it in
memory (tests/facilitator/fake_chain.py) so that settlement recovery runs without a chain process.

    settlement   simulate, send, status, wait (telling when it was first seen), blockhash_valid
    lifecycle    start, close, genesis_hash, balance, pubsub_connected (for /health)

Failures are the errors of rpc.py, whatever the implementation:

    ChainError                   anything that went wrong talking to the chain
     +-- RpcError                the chain answered with a JSON-RPC error (.code, .message)
     +-- ChainUnavailable        no usable answer (down, timeout, garbage)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from sandbox.facilitator.rpc import ChainError, ChainUnavailable, RpcError

__all__ = [
    "COMMITMENTS",
    "ChainError",
    "ChainProvider",
    "ChainUnavailable",
    "Landed",
    "RpcError",
    "SignatureStatus",
    "Simulation",
    "reached",
]

COMMITMENTS = ("processed", "confirmed", "finalized")


def reached(status: str | None, wanted: str) -> bool:
    if status not in COMMITMENTS:
        return False
    return COMMITMENTS.index(status) >= COMMITMENTS.index(wanted)


class Simulation(NamedTuple):
    """A simulation's verdict: `err` is the chain's error value (None: it would succeed)."""

    err: Any
    logs: list[str]


class SignatureStatus(NamedTuple):
    """What getSignatureStatuses knows of a landed transaction."""

    confirmation: str | None  # processed | confirmed | finalized
    err: Any  # the chain's error value, None on success
    slot: int | None
    confirmations: int | None = None  # blocks on top of it (None: finalized, or not told)


@dataclass(frozen=True, slots=True)
class Landed:
    """The transaction reached the commitment; `err` is the chain's error value, None on success."""

    err: Any
    slot: int | None = None


class ChainProvider(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    @property
    def pubsub_connected(self) -> bool: ...

    async def genesis_hash(self) -> str | None:
        """The chain's genesis hash (None or "" when it has none to tell yet)."""

    async def balance(self, address: str) -> int | None:
        """Lamports held by `address` (None when the answer has no value)."""

    async def simulate(self, transaction: str) -> Simulation:
        """Simulate a base64 transaction as sent: no signature check, its own blockhash."""

    async def send(self, transaction: str) -> None:
        """Broadcast a base64 transaction as it is (no preflight: it was simulated already)."""

    async def status(self, signature: str) -> SignatureStatus | None:
        """The signature's status from the chain's history, or None when it is unknown."""

    async def wait(
        self, signature: str, timeout: float, on_seen: Callable[[], None] | None = None
    ) -> Landed | None:
        """The landing at the provider's commitment, or None if it did not come in `timeout` s.

        `on_seen` is called (at most once, possibly never) as soon as the chain reports the
        transaction at any commitment, i.e. executed: later simulations see its writes."""

    async def blockhash_valid(self, blockhash: str) -> bool:
        """Whether a transaction with this blockhash can still land."""
