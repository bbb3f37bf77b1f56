"""The facilitator's core: verification with simulation, chain connection, records, health.

`Facilitator` owns the chain client, the signature watcher, the ledger and the fault set; the
HTTP layer (app.py) only parses bodies and writes answers. Verify reads the ledger and never
writes it. Settlement lives in settlement.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections import deque
from typing import Any

from sandbox.facilitator.confirm import SignatureWatcher
from sandbox.facilitator.exact_svm import CheckedPayment, Rejection, VerifyPolicy, check_payment
from sandbox.facilitator.faults import Faults
from sandbox.facilitator.ledger import FAILED, Ledger
from sandbox.facilitator.metrics import FacilitatorMetrics
from sandbox.facilitator.rpc import ChainClient, ChainError, ChainUnavailable, RpcError
from sandbox.facilitator.settings import Settings
from sandbox.protocol import reasons
from sandbox.protocol.exact_svm.transaction import transfer_authority
from sandbox.protocol.models import FacilitatorRequest, FacilitatorRequestV1
from sandbox.protocol.networks import CAIP2_TO_V1, caip2_from_genesis_hash

__all__ = ["Facilitator", "NotReady", "Outcome"]

log = logging.getLogger("sandbox.facilitator")

Request = FacilitatorRequest | FacilitatorRequestV1
# Token program error 1 is InsufficientFunds (same number in Token-2022).
_TOKEN_INSUFFICIENT_FUNDS = 1


class NotReady(Exception):
    """The chain has not told us its network yet."""


class Outcome:
    """A verify or settle answer: the wire dict and the HTTP status to send it with."""

    __slots__ = ("body", "status")

    def __init__(self, body: dict[str, Any], status: int = 200) -> None:
        self.body = body
        self.status = status


def _simulation_message(value: dict) -> tuple[str, str]:
    err = value.get("err")
    logs = value.get("logs") or []
    hint = next(
        (
            line
            for line in reversed(logs)
            if "rror" in line or "failed" in line or "nsufficient" in line
        ),
        None,
    )
    message = f"simulation failed: {err}" + (f" ({hint})" if hint else "")
    reason = reasons.TRANSACTION_SIMULATION_FAILED
    # {"InstructionError": [2, {"Custom": 1}]}: the transfer (instruction 2) lacked funds.
    detail = err.get("InstructionError") if isinstance(err, dict) else err
    if isinstance(detail, list) and len(detail) == 2 and detail[0] == 2:
        code = detail[1].get("Custom") if isinstance(detail[1], dict) else detail[1]
        if code == _TOKEN_INSUFFICIENT_FUNDS:
            reason = reasons.INSUFFICIENT_FUNDS
            message = "the payer's token account holds less than the amount (" + message + ")"
    return reason, message


class Facilitator:
    def __init__(self, settings: Settings, metrics: FacilitatorMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or FacilitatorMetrics()
        self.keys = {kp.pubkey(): kp for kp in settings.fee_payers}
        self.client = ChainClient(
            settings.rpc_url,
            timeout=settings.rpc_timeout,
            batching=settings.rpc_batching,
            observe=self.metrics.chain_call,
        )
        self.watcher = SignatureWatcher(self.client, settings.websocket_url(), settings.commitment)
        self.ledger = Ledger(settings.ledger_path)
        self.faults = Faults(list(settings.faults))
        self.network: str | None = None
        self.genesis_hash: str | None = None
        self.policy: VerifyPolicy | None = None
        self.supported_body: dict | None = None
        self.settlements: deque[dict] = deque(maxlen=settings.history)
        self.rejections: deque[dict] = deque(maxlen=settings.history)
        self._ready = asyncio.Event()
        self._learner: asyncio.Task | None = None
        from sandbox.facilitator.settlement import Settler

        self.settler = Settler(self)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.ledger.open()
        await self.watcher.start()
        self._learner = asyncio.get_running_loop().create_task(self._learn_network())

    async def stop(self) -> None:
        if self._learner is not None:
            self._learner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._learner
        await self.watcher.close()
        await self.client.close()
        self.ledger.close()

    @property
    def ready(self) -> bool:
        return self.policy is not None

    async def _learn_network(self) -> None:
        """Ask the chain for its genesis hash until it answers; the network follows from it."""
        delay = 0.05
        while True:
            try:
                genesis = await self.client.call("getGenesisHash")
                if isinstance(genesis, str) and genesis:
                    break
            except ChainError as exc:
                log.info("waiting for the chain at %s: %s", self.settings.rpc_url, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        self.genesis_hash = genesis
        self.network = caip2_from_genesis_hash(genesis)
        self.policy = VerifyPolicy(
            fee_payers=frozenset(self.keys),
            network=self.network,
            amount_policy=self.settings.amount_policy,
            max_compute_unit_limit=self.settings.max_compute_unit_limit,
            max_compute_unit_price=self.settings.max_compute_unit_price,
            max_instructions=self.settings.max_instructions,
            bugs=self.settings.bugs,
        )
        self.supported_body = self._supported()
        self._ready.set()
        log.info("facilitator ready on network %s", self.network)

    def _supported(self) -> dict:
        first = str(self.settings.fee_payers[0].pubkey())
        kinds = []
        v1 = CAIP2_TO_V1.get(self.network)
        if v1:
            kinds.append(
                {"x402Version": 1, "scheme": "exact", "network": v1, "extra": {"feePayer": first}}
            )
        kinds.append(
            {
                "x402Version": 2,
                "scheme": "exact",
                "network": self.network,
                "extra": {"feePayer": first},
            }
        )
        return {
            "kinds": kinds,
            "extensions": [],
            "signers": {"solana:*": [str(key) for key in self.keys]},
        }

    # ------------------------------------------------------------ verify

    def check(self, request: Request) -> CheckedPayment | Rejection:
        if self.policy is None:
            raise NotReady
        checked = check_payment(request, self.policy)
        if isinstance(checked, Rejection):
            return checked
        if "skip-dedup" in self.settings.bugs:
            return checked
        return self.ledger_rejection(checked) or checked

    def ledger_rejection(self, checked: CheckedPayment) -> Rejection | None:
        """A payment already settled (same message) or a replayed client nonce."""
        row = self.ledger.by_hash(checked.message_hash)
        if row is not None and row.state != FAILED:
            return Rejection(
                reasons.DUPLICATE_SETTLEMENT,
                f"this payment was already submitted for settlement (transaction {row.signature}, "
                f"{row.state})",
            )
        row = self.ledger.by_nonce(checked.nonce_key)
        if row is not None and row.message_hash != checked.message_hash:
            return Rejection(
                reasons.DUPLICATE_SETTLEMENT,
                f"replay: the memo nonce of this payment was already used by transaction "
                f"{row.signature} ({row.state})",
            )
        return None

    async def simulate(self, checked: CheckedPayment) -> Rejection | None:
        """Simulate as sent (fee-payer slot empty, sigVerify off); None when it would succeed."""
        if "skip-simulation" in self.settings.bugs:
            return None
        wire = base64.b64encode(bytes(checked.transaction)).decode()
        params = [
            wire,
            {
                "encoding": "base64",
                "sigVerify": False,
                "replaceRecentBlockhash": False,
                "commitment": "processed",
            },
        ]
        for attempt in (1, 2):
            try:
                answer = await self.client.call("simulateTransaction", params)
                break
            except RpcError as exc:
                if exc.code == -32602:  # the chain refused the transaction itself: client's fault
                    return Rejection(
                        reasons.TRANSACTION_SIMULATION_FAILED,
                        f"the chain refused to simulate the transaction: {exc.message}",
                    )
                if attempt == 2:
                    raise ChainUnavailable(f"simulation failed on the chain: {exc}") from None
            except ChainUnavailable:
                if attempt == 2:
                    raise
        value = answer.get("value") if isinstance(answer, dict) else None
        if not isinstance(value, dict):
            raise ChainUnavailable("the chain's simulateTransaction answer has no value")
        if value.get("err") is not None:
            return Rejection(*_simulation_message(value))
        return None

    async def verify(self, request: Request) -> Outcome:
        started = time.perf_counter()
        checked = self.check(request)
        if isinstance(checked, CheckedPayment):
            rejection = await self.simulate(checked)
        else:
            rejection, checked = checked, None
        elapsed = time.perf_counter() - started
        self.metrics.verify_seconds.observe(elapsed)
        if rejection is not None:
            return self.verify_rejected(request, rejection, checked, elapsed)
        self.metrics.outcome("verify", "valid")
        return Outcome({"isValid": True, "payer": str(checked.payer)})

    def verify_rejected(
        self,
        request: Request,
        rejection: Rejection,
        checked: CheckedPayment | None,
        elapsed: float = 0.0,
    ) -> Outcome:
        self.metrics.outcome("verify", rejection.reason)
        payer = str(checked.payer) if checked else payer_hint(request)
        self.record_rejection("verify", request, rejection, payer, elapsed)
        body = {"isValid": False, "invalidReason": rejection.reason}
        body["invalidMessage"] = rejection.message
        if payer:
            body["payer"] = payer
        return Outcome(body)

    # ------------------------------------------------------------ records and health

    def record_rejection(
        self, operation: str, request: Request | None, rejection: Rejection, payer, elapsed: float
    ) -> None:
        req = request.payment_requirements if request is not None else None
        self.rejections.append(
            {
                "time": time.time(),
                "operation": operation,
                "reason": rejection.reason,
                "message": rejection.message,
                "payer": payer,
                "amount": req.amount if req is not None else None,
                "payTo": req.pay_to if req is not None else None,
                "x402Version": request.x402_version if request is not None else None,
                "latencyMs": round(elapsed * 1000, 3),
            }
        )

    async def health(self) -> tuple[int, dict]:
        if not self.ready:
            return 503, {"status": "starting", "message": "waiting for the chain's genesis hash"}
        keys = list(self.keys)
        try:
            answers = await asyncio.gather(
                *(self.client.call("getBalance", [str(key)]) for key in keys)
            )
            reachable = True
        except ChainError as exc:
            answers = [None] * len(keys)
            reachable = False
            chain_error = str(exc)
        payers, warnings = [], []
        for key, answer in zip(keys, answers, strict=True):
            lamports = answer.get("value") if isinstance(answer, dict) else None
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
                "connected": self.watcher.ws_connected,
            },
            "commitment": self.settings.commitment,
            "amountPolicy": self.settings.amount_policy,
            "feePayers": payers,
            "ledger": {"path": str(self.settings.ledger_path), **self.ledger.counts()},
            "warnings": warnings,
            **({"bugs": sorted(self.settings.bugs)} if self.settings.bugs else {}),
        }


def payer_hint(request: Request | None) -> str | None:
    """Best-effort payer of a rejected payment, for the records (never trusted)."""
    if request is None:
        return None
    return transfer_authority(request.payment_payload.payload.get("transaction"))
