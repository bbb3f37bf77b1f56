"""Verification: the exact-SVM checks, the ledger's duplicates, then a simulation on the chain.

`Verifier` is shared by /verify and by settlement (which verifies again before it claims). It
reads the ledger and never writes it, refuses a payer in its cool-down and a create-ATA whose
rent the fee payer may not fund (guard.py). Its policy comes when the facilitator has learned
the network; until then `NotReady`.
"""

from __future__ import annotations

import base64
import time

from sandbox.facilitator.guard import Cooldown, RentGuard
from sandbox.facilitator.ledger import FAILED, Ledger
from sandbox.facilitator.provider import ChainError, ChainProvider, RpcError, Simulation
from sandbox.facilitator.results import VerifyResult
from sandbox.protocol import reasons
from sandbox.protocol.exact_svm.facilitator import (
    CheckedPayment,
    Rejection,
    VerifyPolicy,
    check_payment,
)
from sandbox.protocol.models import FacilitatorRequest, FacilitatorRequestV1

__all__ = ["NotReady", "Request", "Verifier"]

Request = FacilitatorRequest | FacilitatorRequestV1
# Token program error 1 is InsufficientFunds (same number in Token-2022).
_TOKEN_INSUFFICIENT_FUNDS = 1


class NotReady(Exception):
    """The chain has not told us its network yet."""


def simulation_rejection(simulation: Simulation, transfer_index: int = 2) -> Rejection:
    err = simulation.err
    hint = next(
        (
            line
            for line in reversed(simulation.logs)
            if "rror" in line or "failed" in line or "nsufficient" in line
        ),
        None,
    )
    message = f"simulation failed: {err}" + (f" ({hint})" if hint else "")
    reason = reasons.TRANSACTION_SIMULATION_FAILED
    # {"InstructionError": [2, {"Custom": 1}]}: the transfer (instruction 2 in the positional
    # layout) lacked funds.
    detail = err.get("InstructionError") if isinstance(err, dict) else err
    if isinstance(detail, list) and len(detail) == 2 and detail[0] == transfer_index:
        code = detail[1].get("Custom") if isinstance(detail[1], dict) else detail[1]
        if code == _TOKEN_INSUFFICIENT_FUNDS:
            reason = reasons.INSUFFICIENT_FUNDS
            message = "the payer's token account holds less than the amount (" + message + ")"
    return Rejection(reason, message)


class Verifier:
    def __init__(
        self,
        chain: ChainProvider,
        ledger: Ledger,
        bugs: frozenset[str],
        cooldown: Cooldown | None = None,
        rent: RentGuard | None = None,
    ) -> None:
        self.chain = chain
        self.ledger = ledger
        self.bugs = bugs
        self.cooldown = cooldown if cooldown is not None else Cooldown(0)
        self.rent = rent if rent is not None else RentGuard(0)
        self.policy: VerifyPolicy | None = None  # set once the network is known

    def check(self, request: Request) -> CheckedPayment | Rejection:
        """The exact-SVM checks alone (no ledger, no chain)."""
        if self.policy is None:
            raise NotReady
        return check_payment(request, self.policy)

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

    def payer_rejection(self, checked: CheckedPayment) -> Rejection | None:
        """A payer in its cool-down: a settlement of its failed on chain (guard.py)."""
        if not self.cooldown:
            return None
        left = self.cooldown.remaining(str(checked.payer))
        if not left:
            return None
        return Rejection(
            reasons.PAYER_TEMPORARILY_REFUSED,
            f"a settlement of this payer failed on chain (the fee payer paid its fee): its "
            f"payments are refused for {left:.1f} more seconds",
        )

    async def rent_rejection(self, checked: CheckedPayment) -> Rejection | None:
        """A create-ATA that would make the fee payer fund rent it may not fund (RentGuard).
        An account that exists costs nothing (CreateIdempotent): never refused."""
        account = checked.created_account
        if account is None:
            return None
        why = self.rent.refusal(str(account))
        if why is None:
            return None
        try:
            if await self.chain.balance(str(account)):
                return None
        except ChainError:
            pass  # unknown: refused, as when it does not exist
        return Rejection(reasons.CREATE_ATA_REFUSED, why)

    async def simulate(self, checked: CheckedPayment) -> Rejection | None:
        """Simulate as sent (fee-payer slot empty, sigVerify off); None when it would succeed."""
        if "skip-simulation" in self.bugs:
            return None
        wire = base64.b64encode(bytes(checked.transaction)).decode()
        try:
            simulation = await self.chain.simulate(wire)
        except RpcError as exc:  # the chain refused the transaction itself: the client's fault
            return Rejection(
                reasons.TRANSACTION_SIMULATION_FAILED,
                f"the chain refused to simulate the transaction: {exc.message}",
            )
        if simulation.err is not None:
            return simulation_rejection(simulation, checked.transfer_index)
        return None

    async def verify(self, request: Request) -> VerifyResult:
        started = time.perf_counter()
        checked = self.check(request)
        if isinstance(checked, Rejection):
            rejection, payer = checked, None
        else:
            payer = str(checked.payer)
            rejection = None if "skip-dedup" in self.bugs else self.ledger_rejection(checked)
            if rejection is None:
                rejection = self.payer_rejection(checked)
            if rejection is None:
                rejection = await self.rent_rejection(checked)
            if rejection is None:
                rejection = await self.simulate(checked)
        seconds = time.perf_counter() - started
        if rejection is None:
            return VerifyResult(payer, seconds=seconds)
        return VerifyResult(payer, rejection.reason, rejection.message, seconds)
