"""The cases: how each case's server behaves, and the judge of what the client did there.

A judge reads only the Evidence (the requests the server saw, the payer's transactions on chain,
its balances, the facilitator's records) and returns (passed, what was seen). Failing a MUST case
makes check-client exit 1; failing a SHOULD case is a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.check_client.evidence import ChainTx, Evidence, TxFacts

__all__ = ["CASES", "PRICE", "Case", "Judgement"]

Judgement = tuple[bool, str]

PRICE = 1234  # atomic units ($0.001234): an amount no client gets right by accident
PAYER_USDC = 1_000_000  # 1 USDC in each fresh payer's wallet


@dataclass(frozen=True)
class Case:
    name: str
    must: str  # what a correct client must (or, SHOULD, should) do ("the client must ...")
    judge: Callable[[Evidence], Judgement]
    level: str = "MUST"  # MUST: a failure fails the run; SHOULD: a warning
    price: int = PRICE
    usdc: int = PAYER_USDC
    disguise: bool = False  # offers say mainnet (offer_rewrites.network_disguise)
    stale_hint: bool = False  # offers hint a blockhash the chain expired (offer_rewrites)
    # offers carry extra.memo whatever check-client's --route-binding says (the memo case)
    memo_always: bool = False
    v1_only: bool = False  # the server speaks x402 v1 only (case_server.V1Only)
    mode: str = "authorization"  # the route's settlement mode (PricedRoute.mode)
    payment_identifier: str = "off"  # PricedRoute.payment_identifier
    delay: float = 0.0  # seconds the paid content takes (after settling, in upfront mode)
    paid_status: int = 0  # the status every paid request gets instead, once settled (0: none)
    paid_status_once: bool = False  # only the first paid request gets paid_status
    alt_price: int = 0  # a second offer at this price (case_server.TwoOffers; 0: one offer)
    # facilitator faults (its POST /_sandbox/faults) while the case runs
    faults: tuple[dict[str, Any], ...] = field(default=())


def _sigs(txs: list[ChainTx]) -> str:
    return ", ".join(tx.signature for tx in txs) or "none"


def _no_payment(ev: Evidence) -> str:
    statuses = ", ".join(str(r.status) for r in ev.requests) or "no request at all"
    return f"no payment landed (requests answered: {statuses}; client {ev.client_exit()})"


def _sent_txs(ev: Evidence) -> list[TxFacts]:
    return [r.transaction for r in ev.paid_requests if r.transaction is not None]


def _paid_once(ev: Evidence, header: str | None = None) -> Judgement:
    """One transfer landed, of the price, and a request paid (with `header`) got 200."""
    landed = ev.landed
    served = [r for r in ev.paid_requests if r.status == 200 and header in (None, r.payment_header)]
    assert ev.offer is not None
    if not landed:
        return False, _no_payment(ev)
    if len(landed) > 1:
        return False, f"paid {len(landed)} times: {_sigs(landed)}"
    if ev.usdc_change != -ev.offer.amount:
        return (
            False,
            f"the payer's USDC changed by {ev.usdc_change}, the price is {ev.offer.amount}",
        )
    if not served:
        statuses = ", ".join(f"{r.status} ({r.payment_header})" for r in ev.paid_requests)
        sent = f" with {header}" if header else ""
        return False, f"paid once ({_sigs(landed)}) but no request paid{sent} got 200: {statuses}"
    version = served[0].payment_header
    return True, f"paid once ({_sigs(landed)}), 200 served (paid with {version})"


def happy_path(ev: Evidence) -> Judgement:
    return _paid_once(ev)


def v1_only(ev: Evidence) -> Judgement:
    return _paid_once(ev, "X-PAYMENT")


def payment_id_required(ev: Evidence) -> Judgement:
    for seen in ev.paid_requests:
        entry = ((seen.payment or {}).get("extensions") or {}).get("payment-identifier")
        if not isinstance(entry, dict) or not (entry.get("info") or {}).get("id"):
            return False, (
                f"a payment ({seen.payment_header}) carries no payment-identifier id, which the "
                f"402 declares required (answered {seen.status})"
            )
    return _paid_once(ev)


def slow_answer(ev: Evidence) -> Judgement:
    landed = ev.landed
    if len(landed) > 1:
        return False, f"charged {len(landed)} times while the paid answer was slow: {_sigs(landed)}"
    if not landed:
        return False, _no_payment(ev)
    served = any(r.status == 200 for r in ev.paid_requests)
    return True, f"charged once ({_sigs(landed)}); " + (
        "waited for the slow answer"
        if served
        else f"gave up without paying again ({ev.client_exit()})"
    )


def bad_gateway_after_pay(ev: Evidence) -> Judgement:
    landed = ev.landed
    if len(landed) > 1:
        return False, f"charged {len(landed)} times after a 502 to a paid request: {_sigs(landed)}"
    if not landed:
        return False, _no_payment(ev)
    again = len(ev.paid_requests) - 1
    resent = f"; sent it again {again} time(s), not charged again" if again else ""
    return True, f"charged once ({_sigs(landed)}) although answered 502{resent}"


def _payment_id(seen) -> str | None:
    entry = ((seen.payment or {}).get("extensions") or {}).get("payment-identifier")
    return (entry.get("info") or {}).get("id") if isinstance(entry, dict) else None


def payment_id_retry(ev: Evidence) -> Judgement:
    ids = [_payment_id(seen) for seen in ev.paid_requests]
    if None in ids:
        return False, "a payment carries no payment-identifier id, which the 402 requires"
    landed = ev.landed
    if len(set(ids)) > 1:
        return False, (
            f"the retry after a 502 sent a new payment-identifier ({', '.join(ids)}): "
            f"{len(landed)} transaction(s) landed ({_sigs(landed)})"
        )
    if len(landed) != 1:
        return False, f"{len(landed)} transaction(s) landed ({_sigs(landed)})" if landed else (
            _no_payment(ev)
        )
    retried = f"retried {len(ids) - 1} time(s) with the same id" if len(ids) > 1 else "no retry"
    return True, f"charged once ({_sigs(landed)}); {retried} ({ids[0]})"


def two_offers(ev: Evidence) -> Judgement:
    landed = ev.landed
    if len(landed) > 1:
        return False, f"paid {len(landed)} offers of one 402: {_sigs(landed)}"
    if not landed:
        return False, _no_payment(ev)
    offered = [o for r in ev.requests for o in r.offers][:2]
    amount = landed[0].transfers[0]["amount"] if landed[0].transfers else None
    which = [n for n, o in enumerate(offered, 1) if str(o.get("amount")) == str(amount)]
    if not which:
        return False, f"paid {amount} atomic units, neither offer's amount ({_sigs(landed)})"
    served = any(r.status == 200 for r in ev.paid_requests)
    return served, (
        f"paid offer {which[0]} of 2 ({amount} atomic units) once ({_sigs(landed)})"
        + ("" if served else "; no paid request got 200")
    )


def price_ceiling(ev: Evidence) -> Judgement:
    assert ev.offer is not None
    if ev.landed:
        return False, f"paid {ev.offer.amount} atomic units without a limit: {_sigs(ev.landed)}"
    return True, f"did not pay a price of {ev.offer.amount} atomic units"


def memo_copied(ev: Evidence) -> Judgement:
    issued = set(ev.memos_issued)
    # Judged on every transaction the client signed, sent or landed: a memo-less one the
    # server refused is the same bug as one that landed.
    for tx in [*_sent_txs(ev), *ev.landed]:
        if len(tx.memos) != 1:
            return False, (
                f"transaction {tx.signature} carries {len(tx.memos)} Memo instructions "
                f"{tx.memos}; the offer's extra.memo must be copied exactly once"
            )
        if tx.memos[0] not in issued:
            return False, (
                f"transaction {tx.signature} carries memo {tx.memos[0]!r}, not the offer's "
                f"extra.memo ({', '.join(sorted(issued)) or 'none issued'})"
            )
    if not ev.landed:
        return False, _no_payment(ev)
    return True, f"one Memo equal to extra.memo in {_sigs(ev.landed)}"


def _terms(tx: TxFacts, ev: Evidence) -> str | None:
    """What is wrong with this transaction's transfer, against the offer (None: nothing)."""
    offer = ev.offer
    assert offer is not None
    if len(tx.transfers) != 1:
        return f"transaction {tx.signature} has {len(tx.transfers)} TransferChecked instructions"
    transfer = tx.transfers[0]
    wrong = []
    if transfer["amount"] != offer.amount:
        wrong.append(f"amount {transfer['amount']} (offered {offer.amount})")
    if transfer["destination"] != offer.recipient:
        wrong.append(f"recipient {transfer['destination']} (offered {offer.recipient})")
    if transfer["mint"] != offer.asset:
        wrong.append(f"mint {transfer['mint']} (offered {offer.asset})")
    return f"transaction {tx.signature}: " + ", ".join(wrong) if wrong else None


def exact_terms(ev: Evidence) -> Judgement:
    for tx in [*_sent_txs(ev), *ev.landed]:
        problem = _terms(tx, ev)
        if problem:
            return False, problem
    if not ev.landed:
        return False, _no_payment(ev)
    assert ev.offer is not None
    return True, (
        f"{ev.offer.amount} atomic units to {ev.offer.recipient} as offered ({_sigs(ev.landed)})"
    )


def mainnet_only(ev: Evidence) -> Judgement:
    if ev.landed or ev.usdc_change:
        return False, (
            f"paid an offer on mainnet only, on this devnet chain: {_sigs(ev.landed)} landed, "
            f"the payer's USDC changed by {ev.usdc_change}"
        )
    sent = ev.paid_requests
    if not sent:
        return True, f"no payment sent; USDC unchanged (client {ev.client_exit()})"
    return True, f"{len(sent)} payment(s) sent, none settleable: USDC unchanged"


def fee_payer(ev: Evidence) -> Judgement:
    assert ev.offer is not None
    for tx in [*_sent_txs(ev), *ev.landed]:
        if tx.fee_payer != ev.offer.fee_payer:
            return False, (
                f"transaction {tx.signature}'s fee payer is {tx.fee_payer}, not the offer's "
                f"extra.feePayer {ev.offer.fee_payer}"
            )
    if ev.sol_change:
        return False, f"the payer's SOL changed by {ev.sol_change} lamports"
    if not ev.landed:
        return False, _no_payment(ev)
    return True, f"fee paid by extra.feePayer ({_sigs(ev.landed)}); the payer's SOL unchanged"


def pending_no_double_pay(ev: Evidence) -> Judgement:
    landed = ev.landed
    if len(landed) > 1:
        return False, f"a second transaction landed after settlement_pending: {_sigs(landed)}"
    if not ev.paid_requests:
        return False, f"the client sent no payment (client {ev.client_exit()})"
    pending = [r for r in ev.paid_requests if (r.receipt or {}).get("errorReason")]
    return True, (
        f"{len(ev.paid_requests)} paid request(s), {len(pending)} answered pending; "
        f"{len(landed)} transaction landed ({_sigs(landed)})"
    )


def _refusals(ev: Evidence) -> str:
    """The facilitator's reasons for this payer's refused payments, as it recorded them."""
    refused = [r for r in ev.facilitator if r.get("reason") and r.get("operation") == "verify"]
    if not refused:
        return ""
    first = refused[0]
    return f"; the facilitator refused {len(refused)}: {first['reason']} ({first['message']})"


def stale_hint(ev: Evidence) -> Judgement:
    assert ev.offer is not None
    hint = ev.offer.blockhash_hint
    on_hint = [tx.signature for tx in _sent_txs(ev) if tx.blockhash == hint]
    landed = ev.landed
    if len(landed) > 1:
        return False, f"paid {len(landed)} times: {_sigs(landed)}"
    if not landed:
        if on_hint:
            return False, (
                f"signed {len(on_hint)} transaction(s) with the expired hint {hint} "
                f"(lastValidBlockHeight passed) and never one with a live blockhash" + _refusals(ev)
            )
        return False, _no_payment(ev)
    served = any(r.status == 200 for r in ev.paid_requests)
    first = f"after {len(on_hint)} refused on the hint, " if on_hint else ""
    return served, (
        f"{first}paid once ({_sigs(landed)}) with blockhash {landed[0].blockhash}, not the "
        "expired hint" + ("" if served else "; no paid request got 200")
    )


CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case("happy-path-v2", "pay once and get the paid request answered 200", happy_path),
        Case(
            "memo-copied",
            "copy extra.memo into exactly one Memo instruction",
            memo_copied,
            memo_always=True,
        ),
        Case("exact-terms", "transfer the offered amount to payTo's token account", exact_terms),
        Case(
            "mainnet-only",
            "not pay an offer on mainnet only while its chain is devnet",
            mainnet_only,
            disguise=True,
        ),
        Case("fee-payer", "leave the fee to extra.feePayer and spend no SOL", fee_payer),
        Case(
            "pending-no-double-pay",
            "sign no second transaction after settlement_pending",
            pending_no_double_pay,
            faults=({"endpoint": "settle", "kind": "pending"},),
        ),
        Case(
            "v1-only",
            "pay a server that speaks x402 v1 only, with X-PAYMENT",
            v1_only,
            v1_only=True,
        ),
        Case(
            "payment-id-required",
            "send a payment-identifier where the 402 requires one",
            payment_id_required,
            payment_identifier="required",
        ),
        Case(
            "slow-paid-answer",
            "not pay again while a paid answer takes 10 s (settled before the content)",
            slow_answer,
            mode="upfront",
            delay=10.0,
        ),
        Case(
            "bad-gateway-after-pay",
            "not pay again when a settled payment is answered 502",
            bad_gateway_after_pay,
            paid_status=502,
        ),
        Case(
            "payment-id-retry",
            "reuse its payment-identifier when it retries a paid request answered 502",
            payment_id_retry,
            payment_identifier="required",
            paid_status=502,
            paid_status_once=True,
        ),
        Case(
            "two-offers",
            "pay exactly one of two offers (the evidence says which)",
            two_offers,
            alt_price=2 * PRICE,
        ),
        Case(
            "stale-blockhash-hint",
            "still pay when the 402's extra.recentBlockhash hint has expired (its "
            "lastValidBlockHeight has passed): use a live blockhash",
            stale_hint,
            level="SHOULD",
            stale_hint=True,
        ),
        Case(
            "price-ceiling",
            "refuse a price far above a sane ceiling (5 USDC for one request)",
            price_ceiling,
            level="SHOULD",
            price=5_000_000,
            usdc=10_000_000,
        ),
    )
}
