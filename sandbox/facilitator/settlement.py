"""Exactly-once settlement: verify again, claim in the ledger, co-sign, send, wait, record.

    new payment      checks + ledger -> its source's turn (guard.py: one at a time per source
                     token account) -> ledger again + payer cool-down + simulation -> claim
                     (hash, nonce) -> row on disk -> co-sign -> send (skipPreflight) -> the
                     chain reports it: the next payment of that source may simulate -> wait
                     for the commitment
    same message     settled: duplicate_settlement with its signature; sending (another request
                     holds it): duplicate_settlement without one; failed: the same failure
                     again; pending: resolve it (status; re-broadcast the same bytes while the
                     blockhash lives; expired and unseen => failed), never a second transfer
    reused nonce     duplicate_settlement (a replay), without a signature

A transaction that lands with an error is transaction_failed, strikes its payer (refused for
the cool-down) and counts its fee as lost in /metrics; no commitment within the timeout is
settlement_pending with the signature.

`Settler` gets its collaborators at construction (a `ChainProvider`, the ledger, the verifier,
the fee payers' keys, the settings) and answers a `SettleResult`; the app renders it.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import time

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from sandbox.facilitator.guard import Cooldown, SourceQueue, Turn, fee_lamports
from sandbox.facilitator.ledger import FAILED, PENDING, SENDING, SETTLED, Ledger, LedgerRow
from sandbox.facilitator.metrics import FacilitatorMetrics
from sandbox.facilitator.provider import (
    ChainError,
    ChainProvider,
    ChainUnavailable,
    Landed,
    RpcError,
    reached,
)
from sandbox.facilitator.results import SettleResult
from sandbox.facilitator.settings import Settings
from sandbox.facilitator.verification import Request, Verifier
from sandbox.protocol import reasons
from sandbox.protocol.exact_svm.facilitator import CheckedPayment, Rejection

__all__ = ["Settler"]

log = logging.getLogger("sandbox.facilitator")

_failed = SettleResult.failed


class Settler:
    def __init__(
        self,
        chain: ChainProvider,
        ledger: Ledger,
        verifier: Verifier,
        signers: dict[Pubkey, Keypair],
        settings: Settings,
        metrics: FacilitatorMetrics | None = None,
    ) -> None:
        self.chain = chain
        self.ledger = ledger
        self.verifier = verifier
        self.signers = signers
        self.metrics = metrics or FacilitatorMetrics()
        self.bugs = settings.bugs
        self.commitment = settings.commitment
        self.timeout = settings.confirm_timeout
        self.sources = SourceQueue()

    @property
    def cooldown(self) -> Cooldown:
        return self.verifier.cooldown

    async def settle(self, request: Request, *, wait: bool = True) -> SettleResult:
        """Settle one payment. `wait=False` (the `pending` fault) answers settlement_pending as
        soon as the transaction is sent, and keeps a pending one pending."""
        started = time.perf_counter()
        result = await self._settle(request, wait)
        result.network = request.payment_requirements.network
        result.seconds = time.perf_counter() - started
        return result

    async def _settle(self, request: Request, wait: bool) -> SettleResult:
        checked = self.verifier.check(request)
        if isinstance(checked, Rejection):
            return _failed(checked.reason, checked.message, None)
        if "skip-dedup" in self.bugs:
            return await self._settle_without_ledger(checked)
        known = self._known(checked)
        if known is not None:
            return await self._answer_known(known, checked, wait)
        refusal = self.verifier.payer_rejection(checked)
        if refusal is not None:  # in its cool-down: not even queued
            return _failed(refusal.reason, refusal.message, str(checked.payer))
        # One at a time per source token account: what the one before left is what this one's
        # simulation sees. Payments already known never take a turn (no new transfer).
        turn = await self.sources.acquire(str(checked.transfer.source))
        try:
            known = self._known(checked)  # a twin or a replay went first while this one queued
            if known is not None:
                turn.release()
                return await self._answer_known(known, checked, wait)
            return await self._in_turn(checked, wait, turn)
        finally:
            turn.release()

    def _known(self, checked: CheckedPayment) -> tuple[bool, LedgerRow] | None:
        """(same message?, its row): this payment, or another holding its nonce; else None."""
        existing = self.ledger.by_hash(checked.message_hash)
        if existing is not None:
            return True, existing
        holder = self.ledger.by_nonce(checked.nonce_key)
        return None if holder is None else (False, holder)

    async def _answer_known(
        self, known: tuple[bool, LedgerRow], checked: CheckedPayment, wait: bool
    ) -> SettleResult:
        same, row = known
        return await self._existing(row, wait) if same else self._duplicate(row, checked)

    async def _in_turn(self, checked: CheckedPayment, wait: bool, turn: Turn) -> SettleResult:
        payer = str(checked.payer)
        refusal = self.verifier.payer_rejection(checked)
        if refusal is None:
            refusal = await self.verifier.rent_rejection(checked)
        if refusal is None:
            refusal = await self.verifier.simulate(checked)
        if refusal is not None:
            return _failed(refusal.reason, refusal.message, payer)
        if checked.created_account is None:
            return await self._send_new(checked, wait, turn)
        # A create-ATA: the rent the fee payer funds is what the account holds afterwards
        # beyond what it held before (nothing when it existed: CreateIdempotent).
        before = await self._lamports(checked.created_account)
        result = await self._send_new(checked, wait, turn)
        after = await self._lamports(checked.created_account) if result.success else None
        if before is not None and after is not None and after > before:
            self.metrics.created_account(str(checked.fee_payer), after - before)
            self.verifier.rent.funded(str(checked.created_account))
        return result

    async def _lamports(self, account: Pubkey) -> int | None:
        """Best effort, for the metrics only: a chain error leaves the rent uncounted."""
        try:
            return (await self.chain.balance(str(account))) or 0
        except ChainError:
            return None

    async def _send_new(self, checked: CheckedPayment, wait: bool, turn: Turn) -> SettleResult:
        payer = str(checked.payer)
        signature, wire = self._cosign(checked)
        row = LedgerRow(
            message_hash=checked.message_hash,
            nonce_key=checked.nonce_key,
            signature=signature,
            state=SENDING,
            payer=payer,
            amount=str(checked.amount),
            network=checked.network,
            transaction_b64=wire,
            blockhash=checked.recent_blockhash,
        )
        holder = self.ledger.reserve(row)
        if holder is not None:  # another settle claimed it while we simulated
            return self._duplicate(holder, checked)
        try:
            await self.ledger.persist(row)
        except Exception as exc:  # the disk said no: nothing was sent, release the claim
            self.ledger.forget(row)
            log.exception("ledger write failed")
            message = f"the settlement ledger failed: {exc}"
            return _failed(reasons.UNEXPECTED_SETTLE_ERROR, message, payer)
        return await self._broadcast_and_wait(row, wait, turn)

    def _cosign(self, checked: CheckedPayment) -> tuple[str, str]:
        """The fee payer's signature in slot 0: (that signature, the transaction as base64)."""
        tx = checked.transaction
        signatures = list(tx.signatures)
        signatures[0] = self.signers[checked.fee_payer].sign_message(checked.message_bytes)
        signed = VersionedTransaction.populate(tx.message, signatures)
        return str(signatures[0]), base64.b64encode(bytes(signed)).decode()

    def _duplicate(self, holder: LedgerRow, checked: CheckedPayment) -> SettleResult:
        if holder.message_hash == checked.message_hash:
            return self._same_payment(holder)
        # No signature here: the holder's transaction is not this payment, nothing proves it paid.
        message = f"replay: the memo nonce was already used by transaction {holder.signature}"
        return _failed(reasons.DUPLICATE_SETTLEMENT, message, str(checked.payer))

    def _same_payment(self, row: LedgerRow) -> SettleResult:
        """This very payment, settled, or in flight in another request.

        Only a settled one names its signature: a server that started this settlement reads
        duplicate_settlement with its fee-payer signature as "settled", and an in-flight
        transaction may still fail or expire. In flight is not settlement_pending either: that
        would make a concurrent twin request resumable, and serve the payment twice.
        """
        settled = row.state == SETTLED
        message = (
            f"this payment is already settled (transaction {row.signature})"
            if settled
            else f"this payment is being settled by another request (transaction "
            f"{row.signature}, not landed yet)"
        )
        signature = row.signature if settled else ""
        status = "settled" if settled else None  # in flight: its outcome is not known yet
        return _failed(reasons.DUPLICATE_SETTLEMENT, message, row.payer, signature, status)

    async def _broadcast_and_wait(
        self, row: LedgerRow, wait: bool, turn: Turn | None = None
    ) -> SettleResult:
        try:
            # As it is: it was simulated already, preflight would only do it again.
            await self.chain.send(row.transaction_b64)
        except RpcError as exc:
            # Refused outright, unless it is there already (a re-broadcast of a landed one).
            try:
                found = await self.chain.status(row.signature)
            except ChainError:
                found = None
            if found is None and "ignore-send-errors" in self.bugs:
                await self.ledger.set_state(row, SETTLED)
                return SettleResult.settled(row.payer, row.signature, int(row.amount))
            if found is None:
                message = f"the chain refused the transaction: {exc.message}"
                await self.ledger.set_state(row, FAILED, message)
                return _failed(reasons.TRANSACTION_FAILED, message, row.payer)
        except ChainUnavailable as exc:
            return await self._pending(row, f"sending is unconfirmed: {exc}")
        if not wait:
            return await self._pending(row, "injected fault: not waiting")
        # The chain executed it as soon as it reports it: the source's next payment may go.
        on_seen = turn.release if turn is not None else None
        landed = await self.chain.wait(row.signature, self.timeout, on_seen)
        return await self._landed(row, landed)

    async def _landed(self, row: LedgerRow, landed: Landed | None) -> SettleResult:
        if landed is None:
            return await self._pending(row, f"not {self.commitment} within {self.timeout:g}s")
        if landed.err is not None:
            message = f"the transaction landed with an error: {landed.err}"
            self._paid_for_nothing(row)
            await self.ledger.set_state(row, FAILED, message)
            return _failed(reasons.TRANSACTION_FAILED, message, row.payer, row.signature)
        await self.ledger.set_state(row, SETTLED)
        return SettleResult.settled(row.payer, row.signature, int(row.amount))

    def _paid_for_nothing(self, row: LedgerRow) -> None:
        """It landed failing: the fee payer paid its fee. Count it, and refuse its payer."""
        self.cooldown.strike(row.payer)
        try:
            tx = VersionedTransaction.from_bytes(base64.b64decode(row.transaction_b64))
        except ValueError:  # our own bytes: cannot happen, but no reason to fail the answer
            log.exception("cannot read back transaction %s", row.signature)
            return
        self.metrics.failed_transaction(str(tx.message.account_keys[0]), fee_lamports(tx))
        log.warning(
            "transaction %s of payer %s landed failing: payer refused for %gs",
            row.signature,
            row.payer,
            self.cooldown.seconds,
        )

    async def _pending(self, row: LedgerRow, why: str) -> SettleResult:
        await self.ledger.set_state(row, PENDING, why)
        message = (
            f"transaction {row.signature} was sent; {why}. Settle the same payment again later "
            "to learn the outcome (it is never sent as a new transfer)"
        )
        return SettleResult.pending(message, row.payer, row.signature)

    async def _settle_without_ledger(self, checked: CheckedPayment) -> SettleResult:
        """The `skip-dedup` bug: no ledger, and a transaction already on chain counts as settled
        by this request (the naive 'idempotent' settle that serves one payment many times)."""
        payer = str(checked.payer)
        signature, wire = self._cosign(checked)
        if await self.chain.status(signature) is None:
            rejection = await self.verifier.simulate(checked)
            if rejection is not None:
                return _failed(rejection.reason, rejection.message, payer)
            # "already processed": a twin request sent it; wait for it below all the same.
            with contextlib.suppress(RpcError):
                await self.chain.send(wire)
        landed = await self.chain.wait(signature, self.timeout)
        if landed is None or landed.err is not None:
            why = "not landed" if landed is None else f"landed with an error: {landed.err}"
            return _failed(reasons.TRANSACTION_FAILED, why, payer, signature)
        return SettleResult.settled(payer, signature, checked.amount)

    # ------------------------------------------------------------ a payment seen before

    async def _existing(self, row: LedgerRow, wait: bool) -> SettleResult:
        if row.state == FAILED:
            message = row.error or "the transaction failed"
            return _failed(reasons.TRANSACTION_FAILED, message, row.payer, row.signature)
        if row.state != PENDING:
            return self._same_payment(row)
        if not wait:
            # The injected fault stands for a slow confirmation: while it is on, a retry of a
            # pending settlement stays pending too (the server's retry path must cope).
            return await self._pending(row, "injected fault: still waiting")
        # Resolve a pending settlement. SENDING in memory keeps concurrent retries out.
        row.state = SENDING
        try:
            found = await self.chain.status(row.signature)
            if found is not None and (reached(found.confirmation, self.commitment) or found.err):
                return await self._landed(row, Landed(found.err, found.slot))
            if found is None:
                if not await self.chain.blockhash_valid(row.blockhash):
                    # It may have landed between the status read and the expiry: once the
                    # blockhash is dead nothing more can land, so this second look is final.
                    if await self.chain.status(row.signature) is None:
                        message = (
                            f"transaction {row.signature} never landed and its blockhash "
                            "expired: nothing was charged; the client may pay again"
                        )
                        await self.ledger.set_state(row, FAILED, message)
                        return _failed(
                            reasons.TRANSACTION_FAILED, message, row.payer, status="expired"
                        )
                else:
                    # Same bytes, same signature: the chain lands it at most once.
                    return await self._broadcast_and_wait(row, wait)
            landed = await self.chain.wait(row.signature, self.timeout)
            return await self._landed(row, landed)
        except ChainError as exc:
            return await self._pending(row, f"the chain is unavailable: {exc}")
        finally:
            if row.state == SENDING:
                row.state = PENDING
