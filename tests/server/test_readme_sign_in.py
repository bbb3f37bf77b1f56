"""The README's "Sign in with x (SIWS)" commands, run as written against a real stack (its URLs
and a funded payer's key put in for the defaults): paid once, then signed in and served without
a second charge."""

from __future__ import annotations

import pytest
from readme_sections import run_command, section_commands, usdc

pytestmark = pytest.mark.timeout(180)


def test_the_sign_in_section_runs(x402_stack, x402_payer, x402_rpc):
    commands = section_commands("Sign in with x (SIWS)")
    assert len(commands) == 2 and commands[1].endswith("--sign-in")
    before = usdc(x402_rpc, x402_payer.address)
    results = []
    for command in commands:
        code, out, err = run_command(command, x402_stack, x402_payer)
        results.append((code, out + err))
    (paid, paid_out), (signed, signed_out) = results
    assert paid == 0 and "receipt: settled" in paid_out, paid_out
    assert signed == 0 and "signed in: served without paying" in signed_out, signed_out
    assert usdc(x402_rpc, x402_payer.address) == before - 10_000  # $0.01, once
