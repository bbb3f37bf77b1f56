"""Deliberate bugs: switch off one defence to prove that a test notices (never on by default).

Each is a mistake real x402 servers make. `tests/scenarios/test_scenarios_can_fail.py` starts
the server with one and checks that the scenario guarding against it fails; users can do the
same with their own suites: `--bug NAME` (repeatable) or X402_SERVER_BUGS="name,name". A server
with bugs on logs a warning at start and lists them in GET /health.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.bugs import parse_bug_names

__all__ = ["BUGS", "ENV", "parse_bugs"]

ENV = "X402_SERVER_BUGS"

BUGS = {
    "skip-settle": "content is served after /verify without ever settling",
    "settle-failed-handler": "a payment is settled even when the handler failed",
    "skip-route-binding": "a payment is judged by the requirements it claims, not the route's",
    "crash-on-malformed": "a malformed payment header raises (a 500)",
    "fail-open": "content is served when the facilitator is down, slow or broken",
    "serve-unsettled": "content is served when the settlement failed or is still pending",
    "trust-receipts": "a settlement receipt is believed without checking it",
    "ignore-payment-ids": "payment identifiers are not looked at: a resend is a new payment, a "
    "reused id is not a conflict, a route that requires one takes payments without",
    "hide-route-from-discovery": "the discovery document (/.well-known/x402) leaves out the last "
    "priced route",
    "reuse-sign-in-nonce": "a sign-in-with-x nonce may be used again: a replayed sign-in message "
    "opens the route",
}


def parse_bugs(names: Iterable[str] = (), env: str | None = None) -> frozenset[str]:
    """Bug names from flags plus the environment; ValueError naming an unknown one."""
    return parse_bug_names(BUGS, names, ENV, env)
