"""Exactly-once settlement: verify again, claim in the ledger, co-sign, send, wait, record.

    new payment      checks + ledger + simulation -> claim (hash, nonce) -> row on disk ->
                     co-sign -> send (skipPreflight) -> wait for the commitment
    same message     settled: duplicate_settlement with its signature; sending (another request
                     holds it): duplicate_settlement without one; failed: the same failure
                     again; pending: resolve it (status; re-broadcast the same bytes while the
                     blockhash lives; expired and unseen => failed), never a second transfer
    reused nonce     duplicate_settlement (a replay), without a signature

A transaction that lands with an error is transaction_failed; no commitment within the timeout
is settlement_pending with the signature.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.facilitator.confirm import Landed, reached
from sandbox.facilitator.exact_svm import CheckedPayment, Rejection, check_payment
from sandbox.facilitator.faults import Fault
from sandbox.facilitator.ledger import FAILED, PENDING, SENDING, SETTLED, LedgerRow
from sandbox.facilitator.rpc import ChainError, ChainUnavailable, RpcError
from sandbox.facilitator.service import NotReady, Outcome, Request, payer_hint
from sandbox.protocol import reasons

if TYPE_CHECKING:
    from sandbox.facilitator.service import Facilitator

__all__ = ["Settler"]

log = logging.getLogger("sandbox.facilitator")


class Settler:
    def __init__(self, facilitator: Facilitator) -> None:
        self.f = facilitator

    # ------------------------------------------------------------ answers

    def _answer(
        self,
        request: Request,
        started: float,
        *,
        success: bool,
        payer: str | None,
        signature: str = "",
        reason: str | None = None,
        message: str | None = None,
        amount: int | None = None,
    ) -> Outcome:
        f = self.f
        elapsed = time.perf_counter() - started
        f.metrics.settle_seconds.observe(elapsed)
        f.metrics.outcome("settle", "success" if success else reason)
        req = request.payment_requirements
        body = {"success": success, "transaction": signature, "network": req.network}
        if payer:
            body["payer"] = payer
        if success:
            body["amount"] = str(amount)
        else:
            body["errorReason"] = reason
            body["errorMessage"] = message
        f.settlements.append(
            {
                "time": time.time(),
                "success": success,
                "reason": reason,
                "message": message,
                "payer": payer,
                "payTo": req.pay_to,
                "amount": str(amount) if amount is not None else req.amount,
                "network": req.network,
                "x402Version": request.x402_version,
                "transaction": signature,
                "latencyMs": round(elapsed * 1000, 3),
            }
        )
        if not success and reason not in (reasons.SETTLEMENT_PENDING,):
            f.record_rejection("settle", request, Rejection(reason, message), payer, elapsed)
        return Outcome(body)

    def _fail(self, request, started, rejection: Rejection, payer=None, signature="") -> Outcome:
        return self._answer(
            request,
            started,
            success=False,
            payer=payer,
            signature=signature,
            reason=rejection.reason,
            message=rejection.message,
        )

    # ------------------------------------------------------------ settle

    async def settle(self, request: Request, fault: Fault | None = None) -> Outcome:
        f = self.f
        started = time.perf_counter()
        if fault is not None and fault.kind == "invalid":
            return self._fail(
                request, started, Rejection(fault.reason, "injected fault"), payer_hint(request)
            )
        if fault is not None and fault.kind == "fake_success":
            fake = str(Signature.new_unique())
            return self._answer(
                request,
                started,
                success=True,
                payer=payer_hint(request),
                signature=fake,
                amount=request.payment_requirements.atomic_amount,
            )
        if f.policy is None:
            raise NotReady
        checked = check_payment(request, f.policy)
        if isinstance(checked, Rejection):
            return self._fail(request, started, checked, payer_hint(request))
        if "skip-dedup" in f.settings.bugs:
            return await self._settle_without_ledger(request, started, checked)
        existing = f.ledger.by_hash(checked.message_hash)
        if existing is not None:
            return await self._existing(request, started, existing, fault)
        holder = f.ledger.by_nonce(checked.nonce_key)
        if holder is not None:
            return self._duplicate(request, started, holder, str(checked.payer), checked)
        rejection = await f.simulate(checked)
        if rejection is not None:
            return self._fail(request, started, rejection, str(checked.payer))
        return await self._send_new(request, started, checked, fault)

    async def _send_new(
        self, request: Request, started: float, checked: CheckedPayment, fault: Fault | None
    ) -> Outcome:
        f = self.f
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
        holder = f.ledger.reserve(row)
        if holder is not None:  # another settle claimed it while we simulated
            return self._duplicate(request, started, holder, payer, checked)
        try:
            await f.ledger.persist(row)
        except Exception as exc:  # the disk said no: nothing was sent, release the claim
            f.ledger.forget(row)
            log.exception("ledger write failed")
            return self._fail(
                request,
                started,
                Rejection(reasons.UNEXPECTED_SETTLE_ERROR, f"the settlement ledger failed: {exc}"),
                payer,
            )
        return await self._broadcast_and_wait(request, started, row, fault)

    def _cosign(self, checked: CheckedPayment) -> tuple[str, str]:
        """The fee payer's signature in slot 0: (that signature, the transaction as base64)."""
        tx = checked.transaction
        signatures = list(tx.signatures)
        signatures[0] = self.f.keys[checked.fee_payer].sign_message(checked.message_bytes)
        signed = VersionedTransaction.populate(tx.message, signatures)
        return str(signatures[0]), base64.b64encode(bytes(signed)).decode()

    async def _send(self, wire: str) -> None:
        """Broadcast as it is: it was simulated already, preflight would only do it again."""
        await self.f.client.call(
            "sendTransaction", [wire, {"encoding": "base64", "skipPreflight": True}]
        )

    def _duplicate(self, request, started, holder: LedgerRow, payer, checked) -> Outcome:
        if holder.message_hash == checked.message_hash:
            return self._same_payment(request, started, holder)
        # No signature here: the holder's transaction is not this payment, nothing proves it paid.
        message = f"replay: the memo nonce was already used by transaction {holder.signature}"
        return self._fail(request, started, Rejection(reasons.DUPLICATE_SETTLEMENT, message), payer)

    def _same_payment(self, request, started, row: LedgerRow) -> Outcome:
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
        return self._fail(
            request,
            started,
            Rejection(reasons.DUPLICATE_SETTLEMENT, message),
            row.payer,
            row.signature if settled else "",
        )

    async def _broadcast_and_wait(
        self, request: Request, started: float, row: LedgerRow, fault: Fault | None
    ) -> Outcome:
        f = self.f
        try:
            await self._send(row.transaction_b64)
        except RpcError as exc:
            # Refused outright, unless it is there already (a re-broadcast of a landed one).
            try:
                found = await f.watcher.status(row.signature)
            except ChainError:
                found = None
            if found is None and "ignore-send-errors" in f.settings.bugs:
                await f.ledger.set_state(row, SETTLED)
                return self._answer(
                    request, started, success=True, payer=row.payer, signature=row.signature,
                    amount=int(row.amount),
                )  # fmt: skip
            if found is None:
                message = f"the chain refused the transaction: {exc.message}"
                await f.ledger.set_state(row, FAILED, message)
                return self._fail(
                    request,
                    started,
                    Rejection(reasons.TRANSACTION_FAILED, message),
                    row.payer,
                )
        except ChainUnavailable as exc:
            return await self._pending(request, started, row, f"sending is unconfirmed: {exc}")
        if fault is not None and fault.kind == "pending":
            return await self._pending(request, started, row, "injected fault: not waiting")
        landed = await f.watcher.wait(row.signature, f.settings.confirm_timeout)
        return await self._landed(request, started, row, landed)

    async def _landed(
        self, request: Request, started: float, row: LedgerRow, landed: Landed | None
    ) -> Outcome:
        f = self.f
        if landed is None:
            return await self._pending(
                request,
                started,
                row,
                f"not {f.settings.commitment} within {f.settings.confirm_timeout:g}s",
            )
        if landed.err is not None:
            message = f"the transaction landed with an error: {landed.err}"
            await f.ledger.set_state(row, FAILED, message)
            return self._fail(
                request, started, Rejection(reasons.TRANSACTION_FAILED, message), row.payer,
                row.signature,
            )  # fmt: skip
        await f.ledger.set_state(row, SETTLED)
        return self._answer(
            request,
            started,
            success=True,
            payer=row.payer,
            signature=row.signature,
            amount=int(row.amount),
        )

    async def _pending(self, request, started, row: LedgerRow, why: str) -> Outcome:
        await self.f.ledger.set_state(row, PENDING, why)
        message = (
            f"transaction {row.signature} was sent; {why}. Settle the same payment again later "
            "to learn the outcome (it is never sent as a new transfer)"
        )
        return self._fail(
            request,
            started,
            Rejection(reasons.SETTLEMENT_PENDING, message),
            row.payer,
            row.signature,
        )

    async def _settle_without_ledger(
        self, request: Request, started: float, checked: CheckedPayment
    ) -> Outcome:
        """The `skip-dedup` bug: no ledger, and a transaction already on chain counts as settled
        by this request (the naive 'idempotent' settle that serves one payment many times)."""
        f = self.f
        payer = str(checked.payer)
        signature, wire = self._cosign(checked)
        if await f.watcher.status(signature) is None:
            rejection = await f.simulate(checked)
            if rejection is not None:
                return self._fail(request, started, rejection, payer)
            # "already processed": a twin request sent it; wait for it below all the same.
            with contextlib.suppress(RpcError):
                await self._send(wire)
        landed = await f.watcher.wait(signature, f.settings.confirm_timeout)
        if landed is None or landed.err is not None:
            why = "not landed" if landed is None else f"landed with an error: {landed.err}"
            return self._fail(
                request, started, Rejection(reasons.TRANSACTION_FAILED, why), payer, signature
            )
        return self._answer(
            request, started, success=True, payer=payer, signature=signature,
            amount=checked.amount,
        )  # fmt: skip

    # ------------------------------------------------------------ a payment seen before

    async def _existing(
        self, request: Request, started: float, row: LedgerRow, fault: Fault | None
    ) -> Outcome:
        f = self.f
        if row.state == FAILED:
            return self._fail(
                request,
                started,
                Rejection(reasons.TRANSACTION_FAILED, row.error or "the transaction failed"),
                row.payer,
                row.signature,
            )
        if row.state != PENDING:
            return self._same_payment(request, started, row)
        if fault is not None and fault.kind == "pending":
            # The injected fault stands for a slow confirmation: while it is on, a retry of a
            # pending settlement stays pending too (the server's retry path must cope).
            return await self._pending(request, started, row, "injected fault: still waiting")
        # Resolve a pending settlement. SENDING in memory keeps concurrent retries out.
        row.state = SENDING
        try:
            found = await f.watcher.status(row.signature)
            if found is not None and (reached(found[0], f.settings.commitment) or found[1]):
                return await self._landed(request, started, row, Landed(found[1], found[2]))
            if found is None:
                answer = await f.client.call(
                    "isBlockhashValid", [row.blockhash, {"commitment": "processed"}]
                )
                live = bool(answer.get("value")) if isinstance(answer, dict) else False
                if not live:
                    # It may have landed between the status read and the expiry: once the
                    # blockhash is dead nothing more can land, so this second look is final.
                    if await f.watcher.status(row.signature) is None:
                        message = (
                            f"transaction {row.signature} never landed and its blockhash "
                            "expired: nothing was charged; the client may pay again"
                        )
                        await f.ledger.set_state(row, FAILED, message)
                        return self._fail(
                            request,
                            started,
                            Rejection(reasons.TRANSACTION_FAILED, message),
                            row.payer,
                        )
                else:
                    # Same bytes, same signature: the chain lands it at most once.
                    return await self._broadcast_and_wait(request, started, row, fault)
            landed = await f.watcher.wait(row.signature, f.settings.confirm_timeout)
            return await self._landed(request, started, row, landed)
        except ChainError as exc:
            return await self._pending(request, started, row, f"the chain is unavailable: {exc}")
        finally:
            if row.state == SENDING:
                row.state = PENDING
