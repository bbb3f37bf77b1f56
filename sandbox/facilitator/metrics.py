"""Prometheus metrics of one facilitator (its own registry, so tests can run several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "FacilitatorMetrics"]

_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SLOW = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)


class FacilitatorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "facilitator_requests", "HTTP requests by route and status", ["route", "status"],
            registry=r,
        )  # fmt: skip
        self.outcomes = Counter(
            "facilitator_outcomes",
            "Verify and settle outcomes: 'valid' / 'success' or the reason string",
            ["operation", "outcome"],
            registry=r,
        )
        self.verify_seconds = Histogram(
            "facilitator_verify_seconds", "Time to answer /verify", buckets=_FAST, registry=r
        )
        self.settle_seconds = Histogram(
            "facilitator_settle_seconds", "Time to answer /settle", buckets=_SLOW, registry=r
        )
        self.chain_seconds = Histogram(
            "facilitator_chain_call_seconds",
            "Time of each chain JSON-RPC call (batched calls included)",
            ["method", "ok"],
            buckets=_FAST,
            registry=r,
        )
        self.faults = Counter(
            "facilitator_faults_injected",
            "Injected faults by endpoint and kind",
            ["endpoint", "kind"],
            registry=r,
        )
        self.ledger_rows = Gauge(
            "facilitator_ledger_rows", "Settlement ledger rows by state", ["state"], registry=r
        )
        self.fee_payer_lamports = Gauge(
            "facilitator_fee_payer_lamports",
            "Fee payer SOL balance, as last read by /health",
            ["address"],
            registry=r,
        )
        self.failed_transactions = Counter(
            "facilitator_failed_transactions",
            "Transactions sent that landed with an error (each paid for by the fee payer)",
            ["fee_payer"],
            registry=r,
        )
        self.failed_lamports = Counter(
            "facilitator_failed_transaction_lamports",
            "Lamports the fee payer lost to transactions that landed with an error",
            ["fee_payer"],
            registry=r,
        )
        self.created_accounts = Counter(
            "facilitator_created_accounts",
            "Token accounts created by settled create-ATA payments (rent paid by the fee payer)",
            ["fee_payer"],
            registry=r,
        )
        self.created_account_lamports = Counter(
            "facilitator_created_account_rent_lamports",
            "Lamports of rent the fee payer paid for accounts created by settled payments",
            ["fee_payer"],
            registry=r,
        )
        # Cache label children: .labels() costs a lock and a dict lookup per call.
        self._outcome_children: dict[tuple[str, str], object] = {}
        self._chain_children: dict[tuple[str, bool], object] = {}
        self._request_children: dict[tuple[str, int], object] = {}

    def outcome(self, operation: str, outcome: str) -> None:
        key = (operation, outcome)
        child = self._outcome_children.get(key)
        if child is None:
            child = self._outcome_children[key] = self.outcomes.labels(operation, outcome)
        child.inc()

    def request(self, route: str, status: int) -> None:
        key = (route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(route, str(status))
        child.inc()

    def chain_call(self, method: str, seconds: float, ok: bool) -> None:
        key = (method, ok)
        child = self._chain_children.get(key)
        if child is None:
            child = self._chain_children[key] = self.chain_seconds.labels(
                method, "true" if ok else "false"
            )
        child.observe(seconds)

    def failed_transaction(self, fee_payer: str, lamports: int) -> None:
        self.failed_transactions.labels(fee_payer).inc()
        self.failed_lamports.labels(fee_payer).inc(lamports)

    def created_account(self, fee_payer: str, lamports: int) -> None:
        self.created_accounts.labels(fee_payer).inc()
        self.created_account_lamports.labels(fee_payer).inc(lamports)

    def fault(self, endpoint: str, kind: str) -> None:
        self.faults.labels(endpoint, kind).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
