"""The facilitator's core: its lifecycle, the network it learns, /supported and /health.

`Facilitator` is given its `ChainProvider` (create_app builds the real one, tests a fake) and
owns the ledger, the `Verifier` (verification.py) and the `Settler` (settlement.py). verify and
settle answer result values (results.py); the HTTP layer (app.py) renders them (answers.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

from solders.pubkey import Pubkey

from sandbox.facilitator.catalogue import Catalogue
from sandbox.facilitator.guard import Cooldown, RentGuard
from sandbox.facilitator.ledger import Ledger
from sandbox.facilitator.metrics import FacilitatorMetrics
from sandbox.facilitator.provider import ChainError, ChainProvider
from sandbox.facilitator.results import SettleResult, VerifyResult
from sandbox.facilitator.settings import Settings
from sandbox.facilitator.settlement import Settler
from sandbox.facilitator.verification import NotReady, Request, Verifier
from sandbox.payment_ids import PaymentIdStore
from sandbox.protocol import bazaar
from sandbox.protocol.exact_svm import wire
from sandbox.protocol.exact_svm.facilitator import VerifyPolicy
from sandbox.protocol.exact_svm.transaction import transfer_authority
from sandbox.protocol.networks import CAIP2_TO_V1, caip2_from_genesis_hash
from sandbox.protocol.payment_identifier import EXTENSION as PAYMENT_IDENTIFIER
from sandbox.sqlite_writer import GroupCommitWriter

__all__ = ["Facilitator", "NotReady", "payer_hint"]

# The extensions /settle and /verify handle (facilitator/idempotent.py, catalogue.py), listed
# by /supported.
EXTENSIONS = (PAYMENT_IDENTIFIER, bazaar.EXTENSION)

log = logging.getLogger("sandbox.facilitator")


class Facilitator:
    def __init__(
        self,
        settings: Settings,
        chain: ChainProvider,
        *,
        metrics: FacilitatorMetrics | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.settings = settings
        self.chain = chain
        self.metrics = metrics or FacilitatorMetrics()
        self.keys = {kp.pubkey(): kp for kp in settings.fee_payers}
        self.ledger = ledger or Ledger(settings.ledger_path, settings.ledger_memory_rows)
        self.cooldown = Cooldown(settings.payer_cooldown_s)
        self.rent = RentGuard(settings.max_created_accounts_per_minute)
        self.verifier = Verifier(chain, self.ledger, settings.bugs, self.cooldown, self.rent)
        self.settler = Settler(chain, self.ledger, self.verifier, self.keys, settings, self.metrics)
        self.network: str | None = None
        self.genesis_hash: str | None = None
        self.supported_body: dict | None = None
        self._learner: asyncio.Task | None = None
        self.payment_ids = PaymentIdStore()  # in memory until start() opens the ledger's file
        self._ids_writer: GroupCommitWriter | None = None
        self.catalogue = Catalogue()  # in memory until start() opens its file beside the ledger

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.ledger.open()
        # payment-identifier records: a file beside the ledger's, so that their writes never wait
        # on the ledger's lock (nor the ledger's on theirs)
        path = self.ledger.path.with_name(f"{self.ledger.path.stem}-payment-ids.sqlite3")
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        self._ids_writer = GroupCommitWriter(db, name="payment-ids-writer")
        # Posted, not waited for: a kept answer lost in a crash is answered from the ledger
        # (duplicate_settlement naming this payment's own transaction, which the server
        # proves on chain), so the id costs /settle no wait.
        self.payment_ids = PaymentIdStore(db, self._ids_writer, wait_for_writes=False)
        self.catalogue.open(self.ledger.path.with_name(f"{self.ledger.path.stem}-bazaar.sqlite3"))
        await self.chain.start()
        self._learner = asyncio.get_running_loop().create_task(self._learn_network())

    async def stop(self) -> None:
        if self._learner is not None:
            self._learner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._learner
        await self.chain.close()
        if self._ids_writer is not None:
            self._ids_writer.close()
            self._ids_writer.db.close()
            self._ids_writer = None
        self.catalogue.close()
        self.ledger.close()

    @property
    def ready(self) -> bool:
        return self.verifier.policy is not None

    async def wait_ready(self) -> None:
        """Until the network is learned (the learner runs from `start`)."""
        if self._learner is not None:
            await asyncio.shield(self._learner)

    async def _learn_network(self) -> None:
        """Ask the chain for its genesis hash until it answers; the network follows from it."""
        delay = 0.05
        while True:
            try:
                genesis = await self.chain.genesis_hash()
                if genesis:
                    break
            except ChainError as exc:
                log.info("waiting for the chain at %s: %s", self.settings.rpc_url, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        self.genesis_hash = genesis
        self.network = caip2_from_genesis_hash(genesis)
        self.verifier.policy = VerifyPolicy(
            fee_payers=frozenset(self.keys),
            network=self.network,
            amount_policy=self.settings.amount_policy,
            max_compute_unit_limit=self.settings.max_compute_unit_limit,
            max_compute_unit_price=self.settings.max_compute_unit_price,
            max_instructions=self.settings.max_instructions,
            bugs=self.settings.bugs,
            layout=self.settings.layout,
            preflight_allow=frozenset(map(Pubkey.from_string, self.settings.preflight_allow)),
            postflight_allow=frozenset(map(Pubkey.from_string, self.settings.postflight_allow)),
            allow_create_ata=self.settings.allow_create_ata,
        )
        self.supported_body = self._supported()
        log.info("facilitator ready on network %s", self.network)

    def _supported(self) -> dict:
        payers = [str(key) for key in self.keys]
        v1_network = CAIP2_TO_V1.get(self.network)
        return wire.supported(payers, self.network, v1_network, extensions=EXTENSIONS)

    # ------------------------------------------------------------ verify and settle

    async def verify(self, request: Request) -> VerifyResult:
        return await self.verifier.verify(request)

    async def settle(self, request: Request, *, wait: bool = True) -> SettleResult:
        return await self.settler.settle(request, wait=wait)

    # ------------------------------------------------------------ health

    async def health(self) -> tuple[int, dict]:
        if not self.ready:
            return 503, {"status": "starting", "message": "waiting for the chain's genesis hash"}
        keys = list(self.keys)
        try:
            balances = await asyncio.gather(*(self.chain.balance(str(key)) for key in keys))
            reachable = True
        except ChainError as exc:
            balances = [None] * len(keys)
            reachable = False
            chain_error = str(exc)
        payers, warnings = [], []
        for key, lamports in zip(keys, balances, strict=True):
            low = lamports is not None and lamports < self.settings.low_balance_lamports
            if lamports is not None:
                self.metrics.fee_payer_lamports.labels(str(key)).set(lamports)
            if low:
                warnings.append(
                    f"fee payer {key} is low on SOL: {lamports / 1e9:.6f} SOL "
                    f"(warning below {self.settings.low_balance_lamports / 1e9:g})"
                )
            payers.append(
                {
                    "address": str(key),
                    "lamports": lamports,
                    "sol": None if lamports is None else lamports / 1e9,
                    "low": low,
                }
            )
        if not reachable:
            warnings.append(f"the chain is unreachable: {chain_error}")
        for state, count in self.ledger.counts().items():
            self.metrics.ledger_rows.labels(state).set(count)
        return 200, {
            "status": "ok" if not warnings else "degraded",
            "network": self.network,
            "genesisHash": self.genesis_hash,
            "chain": {"rpcUrl": self.settings.rpc_url, "reachable": reachable},
            "pubsub": {
                "url": self.settings.websocket_url(),
                "connected": self.chain.pubsub_connected,
            },
            "commitment": self.settings.commitment,
            "amountPolicy": self.settings.amount_policy,
            "verification": self.settings.verification_policy(),
            "settleStatus": self.settings.settle_status,
            "maxComputeUnitPrice": self.settings.max_compute_unit_price,
            "payerCooldownSeconds": self.settings.payer_cooldown_s,
            "payersRefused": len(self.cooldown),
            "accountsFunded": len(self.rent),
            "feePayers": payers,
            "ledger": {
                "path": str(self.settings.ledger_path),
                **self.ledger.counts(),
                "inMemory": len(self.ledger),
            },
            "warnings": warnings,
            **({"bugs": sorted(self.settings.bugs)} if self.settings.bugs else {}),
        }


def payer_hint(request: Request | None) -> str | None:
    """Best-effort payer of a rejected payment, for the records (never trusted)."""
    if request is None:
        return None
    return transfer_authority(request.payment_payload.payload.get("transaction"))
