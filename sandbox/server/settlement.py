"""Settling a verified payment, and what the server believes about it.

    Settlement.settle(request, tx)              -> Receipt | Refusal   (a payment seen first)
    Settlement.resume(request, tx, unfinished)  -> Receipt | Refusal   (a resend of a payment
                                                                        whose settlement we began)

A Receipt is a settlement the server believes: its signature is the fee payer's signature of this
very transaction and, with an RPC URL, the chain shows it confirmed without error. Anything else
is a Refusal, a value the paywall answers (502/504 for a facilitator failure, else a 402 with the
reason). This object owns the pending record (pending.py): a settlement started but not seen to
finish (pending twice, timed out, failed mid-call, a success the chain could not show yet: RPC
errors or not confirmed within the check) is kept, so that the same payment sent again is
settled again, which resolves it, and served once. With a record file the pending record has
every payment from before /settle is sent, so this holds across a restart or a kill -9 too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.protocol import SettleResponse, reasons
from sandbox.protocol.exact_svm.transaction import PaymentTransaction
from sandbox.server.errors import FacilitatorError, SettlementNotProven, SettlementUnconfirmed
from sandbox.server.facilitator_client import FacilitatorApi
from sandbox.server.onchain import ChainReceiptCheck
from sandbox.server.pending import PendingPayment, PendingSettlements

__all__ = ["Receipt", "Refusal", "Settlement"]


@dataclass(frozen=True, slots=True)
class Receipt:
    """A settlement to serve the content with; `settled` goes back in the receipt header."""

    settled: SettleResponse
    outcome: str = "paid"  # for the metrics: "paid_after_pending" when a resend resolved it


@dataclass(frozen=True, slots=True)
class Refusal:
    """A verified payment that is not served, and why.

    With `failure`, the facilitator could not answer usably (502/504 naming it); otherwise a 402
    whose `error` is `reason`, carrying `receipt` (when there is one) in the receipt header.
    """

    outcome: str  # for the metrics
    reason: str = ""
    message: str = ""
    receipt: SettleResponse | None = None
    failure: FacilitatorError | None = None


_ALREADY_SERVED = Refusal(
    "not_settled",
    reasons.DUPLICATE_SETTLEMENT,
    "this payment was already settled and served by this server",
)


class Settlement:
    def __init__(
        self,
        facilitator: FacilitatorApi,
        *,
        network: str,
        chain_check: ChainReceiptCheck | None = None,
        pending: PendingSettlements | None = None,
        bugs: frozenset[str] = frozenset(),
    ) -> None:
        self.facilitator = facilitator
        self.network = network  # CAIP-2, for the receipt the fail-open bug makes up
        self.chain_check = chain_check
        self.pending = pending if pending is not None else PendingSettlements()
        self.bugs = bugs

    async def close(self) -> None:
        if self.chain_check is not None:
            await self.chain_check.close()
        self.pending.close()

    def unfinished(self, key: str) -> PendingPayment | None:
        """Take the pending entry of payment `key`: whoever takes it is the one resolving it."""
        return self.pending.take(key)

    # ------------------------------------------------------------------ a payment seen first

    async def settle(self, request: dict, tx: PaymentTransaction) -> Receipt | Refusal:
        """Settle; `settlement_pending` is retried once. A success must prove itself.

        The pending record has the payment (durably, with a record file) before /settle is
        sent: a crash while it is out leaves a payment that a resend after the restart resumes.
        """
        began = await self.pending.begin(tx.key)
        try:
            receipt = await self.facilitator.settle(request)
            if not receipt.success and receipt.error_reason == reasons.SETTLEMENT_PENDING:
                receipt = await self.facilitator.settle(request)
            if receipt.success:
                await self._believe(receipt, tx)
        except SettlementUnconfirmed as exc:
            return await self._unsettled(tx, _pending_answer(exc), "not_settled")
        except FacilitatorError as exc:
            if "fail-open" in self.bugs:
                return Receipt(
                    SettleResponse(success=False, error_reason=exc.code, network=self.network)
                )
            if not isinstance(exc, SettlementNotProven):
                # The money may have moved: a resend of this payment resolves rather than replays.
                await self.pending.put(tx.key, PendingPayment(receipt=None))
            elif began:  # proven not to be this payment's settlement: nothing to resume
                await self.pending.drop(tx.key)
            return Refusal("not_settled", failure=exc)
        if receipt.success or "serve-unsettled" in self.bugs:
            await self.pending.mark_served(tx.key)
            return Receipt(receipt)
        # Refused: our settlement moved nothing, unless it is a duplicate (a twin request of
        # this payment may be settling it right now: its record must stay until it is served).
        if began and receipt.error_reason not in (
            reasons.SETTLEMENT_PENDING,
            reasons.DUPLICATE_SETTLEMENT,
        ):
            await self.pending.drop(tx.key)
        return await self._unsettled(tx, receipt, "not_settled")

    # ------------------------------------------------------------------ a resend

    async def resume(
        self, request: dict, tx: PaymentTransaction, unfinished: PendingPayment
    ) -> Receipt | Refusal:
        """A resend of a payment whose settlement we started: settle again, serve it once."""
        if self.pending.was_served(tx.key):  # a twin request of it was served already
            return _ALREADY_SERVED
        try:
            receipt = await self.facilitator.settle(request)
            if not receipt.success and receipt.error_reason == reasons.DUPLICATE_SETTLEMENT:
                receipt = await self._settled_earlier(receipt, unfinished, tx)
            elif receipt.success:
                await self._believe(receipt, tx)
        except SettlementUnconfirmed as exc:
            return await self._unsettled(tx, _pending_answer(exc), "pending")
        except FacilitatorError as exc:
            await self.pending.put(tx.key, unfinished)
            return Refusal(exc.code, failure=exc)
        if not receipt.success:
            if receipt.error_reason == reasons.SETTLEMENT_PENDING:
                return await self._unsettled(tx, receipt, "pending")
            if receipt.error_reason == reasons.DUPLICATE_SETTLEMENT:
                # Unproven (still in flight elsewhere, or a replayed nonce): a later resend may
                # find it settled with its signature.
                await self.pending.put(tx.key, unfinished)
            else:
                await self.pending.drop(tx.key)
            return await self._unsettled(tx, receipt, "not_settled")
        if self.pending.was_served(tx.key):  # its twin was served while we were settling
            return _ALREADY_SERVED
        await self.pending.mark_served(tx.key)
        return Receipt(receipt, "paid_after_pending")

    # ------------------------------------------------------------------ belief

    async def _believe(self, receipt: SettleResponse, tx: PaymentTransaction) -> None:
        """SettlementNotProven unless the receipt's signature is this payment's, on chain."""
        if "trust-receipts" in self.bugs:
            return
        if not tx.signed_by_fee_payer(receipt.transaction):
            raise SettlementNotProven(
                f"the facilitator reported success with transaction {receipt.transaction!r}, "
                "which is not the fee payer's signature of this payment"
            )
        if self.chain_check is not None:
            problem = await self.chain_check.problem(receipt.transaction)
            if problem is not None:
                message = f"the facilitator reported success but {problem.message}"
                if problem.final:
                    raise SettlementNotProven(message)
                raise SettlementUnconfirmed(message, receipt)

    async def _settled_earlier(
        self, duplicate: SettleResponse, unfinished: PendingPayment, tx: PaymentTransaction
    ) -> SettleResponse:
        """`duplicate_settlement` on a resend: a success only if proven to be this payment.

        A facilitator says it both for a payment it settled (an earlier call of ours that never
        got to serve it) and for a replayed memo nonce (another transaction, which may have paid
        someone else one unit); only the fee payer's signature of this very transaction tells
        them apart. A signature remembered from an earlier settlement_pending answer proves only
        that it was sent, so it counts only when the chain check confirms it landed.
        """
        earlier = unfinished.receipt
        signature = duplicate.transaction
        if not (signature and tx.signed_by_fee_payer(signature)):
            signature = earlier.transaction if earlier and self.chain_check is not None else ""
            if not (signature and tx.signed_by_fee_payer(signature)):
                return duplicate  # nothing proves this paid: not served (yet)
        receipt = SettleResponse(
            success=True,
            transaction=signature,
            network=duplicate.network,
            payer=duplicate.payer or (earlier.payer if earlier else None),
            amount=duplicate.amount,
        )
        await self._believe(receipt, tx)
        return receipt

    async def _unsettled(
        self, tx: PaymentTransaction, receipt: SettleResponse, outcome: str
    ) -> Refusal:
        """The refusal of a well-formed `success: false`; a pending one is kept for a resend."""
        if receipt.error_reason == reasons.SETTLEMENT_PENDING:
            await self.pending.put(tx.key, PendingPayment(receipt=receipt))
            message = (
                f"settlement of transaction {receipt.transaction or '(unknown)'} is still pending "
                "on chain: send the same payment again shortly to get the content once it has "
                "settled (it will not be charged twice)"
            )
        else:
            message = receipt.error_message or "the facilitator could not settle the payment"
        return Refusal(
            outcome,
            receipt.error_reason or reasons.UNEXPECTED_SETTLE_ERROR,
            message,
            receipt=receipt,
        )


def _pending_answer(unconfirmed: SettlementUnconfirmed) -> SettleResponse:
    """A success the chain could not show yet, as the `settlement_pending` it is to the client."""
    receipt = unconfirmed.receipt
    return SettleResponse(
        success=False,
        error_reason=reasons.SETTLEMENT_PENDING,
        error_message=unconfirmed.message,
        transaction=receipt.transaction,
        network=receipt.network,
        payer=receipt.payer,
        amount=receipt.amount,
    )
