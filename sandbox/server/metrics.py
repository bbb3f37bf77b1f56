"""Prometheus metrics of the paywall: requests by route and outcome, facilitator call latency.

One registry per paywall, so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "PaywallMetrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class PaywallMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "x402_server_requests",
            "Requests to priced routes, by route and outcome",
            ["route", "outcome"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "x402_server_request_seconds",
            "Time to answer a request to a priced route",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.facilitator_seconds = Histogram(
            "x402_server_facilitator_call_seconds",
            "Latency of calls to the facilitator, by call and HTTP status or failure",
            ["call", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe_facilitator(self, call: str, seconds: float, outcome: str) -> None:
        self.facilitator_seconds.labels(call, outcome).observe(seconds)

    def observe_request(self, route: str, outcome: str, seconds: float) -> None:
        self.requests.labels(route, outcome).inc()
        self.request_seconds.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
