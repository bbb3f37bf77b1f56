"""`FakeChain`: a test double of the facilitator's `ChainProvider`, an in-memory chain whose
landings and clock the test drives. Nothing sleeps: `wait()` answers at once what the chain
knows (as if the confirm timeout had passed), after running the test's `during_wait` hook.

    chain = FakeChain(auto_land=False)     # sent transactions stay in flight
    ... settle ...                         # pending: sent, not landed
    chain.land()                           # the one in flight lands (confirmed, no error)
    chain.expire(blockhash)                # it can no longer land; sends of it are refused
    chain.token_balances[source] = 10_000  # that token account's balance: simulations and
                                           # landings of transfers from it see it (else: plenty)
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from solders.transaction import VersionedTransaction

from sandbox.facilitator.provider import (
    ChainUnavailable,
    Landed,
    RpcError,
    SignatureStatus,
    Simulation,
    reached,
)
from sandbox.protocol.exact_svm.transaction import transfer_checked
from sandbox.protocol.networks import DEVNET_GENESIS_HASH

__all__ = ["FakeChain", "signature_and_blockhash", "source_and_amount"]


_INSUFFICIENT = {"InstructionError": [2, {"Custom": 1}]}  # the token program's InsufficientFunds


def signature_and_blockhash(transaction: str) -> tuple[str, str]:
    tx = VersionedTransaction.from_bytes(base64.b64decode(transaction))
    return str(tx.signatures[0]), str(tx.message.recent_blockhash)


def source_and_amount(transaction: str) -> tuple[str, int] | None:
    """The payment's transfer (instruction 2): its source token account and amount."""
    message = VersionedTransaction.from_bytes(base64.b64decode(transaction)).message
    if len(message.instructions) < 3:
        return None
    found = transfer_checked(message.instructions[2], list(message.account_keys))
    return None if found is None else (str(found.source), found.amount)


class FakeChain:
    def __init__(self, *, auto_land: bool = True, commitment: str = "confirmed") -> None:
        self.auto_land = auto_land  # a sent transaction lands at once (at `commitment`)
        self.commitment = commitment
        self.landing_err: Any = None  # the error value a transaction lands with
        self.simulation_err: Any = None
        self.unavailable = False  # every call raises ChainUnavailable
        self.sent: list[str] = []  # every accepted broadcast, base64, in order
        self.calls: list[str] = []  # every provider call by name, in order
        self.in_flight: dict[str, str] = {}  # signature -> blockhash, accepted, not landed
        self.statuses: dict[str, SignatureStatus] = {}
        self.expired: set[str] = set()
        self.token_balances: dict[str, int] = {}  # source token account -> its balance
        # Each simulation: (how many transactions had been sent before it, the balance it saw).
        self.simulated: list[tuple[int, int | None]] = []
        self._transfers: dict[str, tuple[str, int] | None] = {}  # in flight: its transfer
        self.slot = 0
        self.during_wait: Callable[[str], None] | None = None
        self.during_blockhash_check: Callable[[str], None] | None = None
        self.started = self.closed = False

    # ------------------------------------------------------------ driving it

    def land(self, signature: str | None = None, *, err: Any = None, confirmation=None) -> str:
        """Land one in-flight transaction (the only one when `signature` is None)."""
        if signature is None:
            (signature,) = self.in_flight
        blockhash = self.in_flight.pop(signature)
        if blockhash in self.expired:
            raise ValueError("a transaction whose blockhash expired cannot land")
        transfer = self._transfers.pop(signature, None)
        if transfer is not None and transfer[0] in self.token_balances and err is None:
            source, amount = transfer
            if self.token_balances[source] < amount:
                err = _INSUFFICIENT
            else:
                self.token_balances[source] -= amount
        self.slot += 1
        self.statuses[signature] = SignatureStatus(confirmation or self.commitment, err, self.slot)
        return signature

    def confirm(self, signature: str, confirmation: str | None = None) -> None:
        """A landed transaction reaches a further commitment."""
        status = self.statuses[signature]
        self.statuses[signature] = status._replace(confirmation=confirmation or self.commitment)

    def drop(self) -> None:
        """The chain forgets what is in flight (a leader that never forwarded it)."""
        self.in_flight.clear()

    def expire(self, blockhash: str) -> None:
        self.expired.add(blockhash)

    # ------------------------------------------------------------ ChainProvider

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.unavailable:
            raise ChainUnavailable("the fake chain is down")

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True

    @property
    def pubsub_connected(self) -> bool:
        return self.started and not self.closed

    async def genesis_hash(self) -> str | None:
        self._call("genesis_hash")
        return DEVNET_GENESIS_HASH

    async def balance(self, address: str) -> int | None:
        self._call("balance")
        return 10**9

    async def simulate(self, transaction: str) -> Simulation:
        self._call("simulate")
        _signature, blockhash = signature_and_blockhash(transaction)
        transfer = source_and_amount(transaction)
        balance = None if transfer is None else self.token_balances.get(transfer[0])
        self.simulated.append((len(self.sent), balance))
        if blockhash in self.expired:
            return Simulation("BlockhashNotFound", [])
        if balance is not None and balance < transfer[1]:
            return Simulation(_INSUFFICIENT, ["Program log: Error: insufficient funds"])
        return Simulation(self.simulation_err, [])

    async def send(self, transaction: str) -> None:
        self._call("send")
        signature, blockhash = signature_and_blockhash(transaction)
        if signature in self.statuses:
            raise RpcError(-32002, "Transaction simulation failed: AlreadyProcessed")
        if blockhash in self.expired:
            raise RpcError(-32002, "Transaction simulation failed: Blockhash not found")
        self.sent.append(transaction)
        self.in_flight[signature] = blockhash
        self._transfers[signature] = source_and_amount(transaction)
        if self.auto_land:
            self.land(signature, err=self.landing_err)

    async def status(self, signature: str) -> SignatureStatus | None:
        self._call("status")
        return self.statuses.get(signature)

    async def wait(
        self, signature: str, timeout: float, on_seen: Callable[[], None] | None = None
    ) -> Landed | None:
        self._call("wait")
        if self.during_wait is not None:
            self.during_wait(signature)
        found = self.statuses.get(signature)
        if found is not None and on_seen is not None:
            on_seen()
        if found is not None and (reached(found.confirmation, self.commitment) or found.err):
            return Landed(found.err, found.slot)
        return None  # the timeout passed

    async def blockhash_valid(self, blockhash: str) -> bool:
        self._call("blockhash_valid")
        if self.during_blockhash_check is not None:
            self.during_blockhash_check(blockhash)
        return blockhash not in self.expired
