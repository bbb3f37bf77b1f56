"""Deliberate bugs: switch off one defence to prove that a test notices (never on by default).

The scenario catalogue claims to guard against, say, a facilitator that accepts underpayment;
`tests/scenarios/test_scenarios_can_fail.py` starts a facilitator with that bug and checks the
story fails. Users can do the same with their own test suites: `--bug NAME` (repeatable) or
X402_FACILITATOR_BUGS="name,name". A facilitator with bugs on logs a warning at start and lists
them in GET /health.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.bugs import parse_bug_names

__all__ = ["BUGS", "ENV", "parse_bugs"]

ENV = "X402_FACILITATOR_BUGS"

BUGS = {
    "skip-amount-check": "any transfer amount is accepted",
    "skip-mint-check": "a transfer of any mint is accepted",
    "skip-recipient-check": "a transfer to any token account is accepted",
    "skip-network-check": "a payment for any network is accepted",
    "skip-fee-payer-isolation": "instructions may use the fee payer's accounts",
    "skip-instruction-checks": "any instruction may follow the transfer; a create-ATA's pins "
    "are not checked (role-based layout)",
    "skip-signature-check": "the client's signature is not verified",
    "skip-simulation": "payments are not simulated before they are accepted or sent",
    "ignore-send-errors": "a transaction the chain refuses is reported as settled",
    "skip-dedup": "no settlement ledger look-up; a transaction already on chain is 'settled' again",
}


def parse_bugs(names: Iterable[str] = (), env: str | None = None) -> frozenset[str]:
    """Bug names from flags plus the environment; ValueError naming an unknown one."""
    return parse_bug_names(BUGS, names, ENV, env)
