"""The README's "Payment identifiers" commands, run as written against a real stack (its URLs
and a funded payer's key put in for the defaults): paid once with the id, the id reused on a
new payment refused with 409, a required id left out refused with 400; charged exactly once."""

from __future__ import annotations

import pytest
from readme_sections import run_command, section_commands, usdc

pytestmark = pytest.mark.timeout(180)


def test_the_payment_identifier_section_runs(x402_stack, x402_payer, x402_rpc):
    commands = section_commands("Payment identifiers: a retry is answered, not charged again")
    assert len(commands) == 3
    before = usdc(x402_rpc, x402_payer.address)
    results = []
    for command in commands:
        code, out, err = run_command(command, x402_stack, x402_payer)
        results.append((code, out + err))
    (paid, paid_out), (conflict, conflict_out), (missing, missing_out) = results
    assert paid == 0 and "payment identifier order-0001-readme-demo" in paid_out, paid_out
    assert conflict == 1 and "<- 409" in conflict_out, conflict_out
    assert missing == 1 and "<- 400" in missing_out, missing_out
    assert "payment_identifier_required" in missing_out, missing_out
    assert usdc(x402_rpc, x402_payer.address) == before - 10_000  # $0.01, once
