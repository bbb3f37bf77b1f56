"""Every scenario can fail: each runs against a stack broken in the way it guards against.

A story that passes on the sandbox proves little unless it would fail on a server or facilitator
with the bug it is about. BROKEN names, per story, the deliberate bugs (sandbox/facilitator/bugs.py,
sandbox/server/bugs.py) that make it fail; stories sharing the same bugs share one stack. A new
story without an entry here fails `test_every_story_has_a_broken_stack`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sandbox.facilitator.bugs import BUGS as FACILITATOR_BUGS
from sandbox.orchestration.stack import StackConfig, start_stack, stop_stack
from sandbox.orchestration.summary import deliberate_bugs
from sandbox.processes import free_port, free_port_pair
from sandbox.scenario_runner.runner import discover, run
from sandbox.server.bugs import BUGS as SERVER_BUGS

pytestmark = pytest.mark.slow

# A facilitator that does not simulate and calls a refused transaction settled, behind a server
# that believes its receipts: a stale, unfunded or forged payment is then served unpaid.
UNCHECKED = (("skip-simulation", "ignore-send-errors"), ("trust-receipts", "serve-unsettled"))

# story -> (facilitator bugs, server bugs)
BROKEN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "happy-path-v1": ((), ("skip-settle",)),
    "happy-path-v2": ((), ("skip-settle",)),
    "dynamic-price": ((), ("skip-settle",)),
    "upfront-route": ((), ("skip-settle",)),
    "underpay": (("skip-amount-check",), ()),
    "overpay": (("skip-amount-check",), ()),
    "wrong-mint": (("skip-mint-check",), ()),
    "wrong-recipient": (("skip-recipient-check",), ()),
    "wrong-network": (("skip-network-check",), ("skip-route-binding",)),
    "expired-blockhash": UNCHECKED,
    "insufficient-funds": UNCHECKED,
    "fee-payer-out-of-sol": UNCHECKED,
    "tampered-signature": (("skip-signature-check", *UNCHECKED[0]), UNCHECKED[1]),
    "fee-payer-as-authority": (("skip-fee-payer-isolation",), ()),
    "fee-payer-in-instruction": (("skip-fee-payer-isolation",), ()),
    "extra-instruction": (("skip-instruction-checks",), ()),
    "replay-settled-payment": (("skip-dedup",), ()),
    "parallel-race": (("skip-dedup",), ()),
    "nonce-reuse": (("skip-dedup",), ()),
    "route-binding": ((), ("skip-route-binding",)),
    # skip-route-binding sends a v1 payment's requirements with extra.memo "" (unset): paid
    "memo-less-client": ((), ("skip-route-binding",)),
    "first-time-merchant": (("skip-instruction-checks",), ()),  # role-based: FACILITATOR_FLAGS
    # Each pays once through the server (where the layout allows it): unsettled, it fails there.
    "lighthouse-instruction": ((), ("skip-settle",)),
    "pyusd-payment": ((), ("skip-settle",)),
    "allow-listed-instructions": ((), ("skip-settle",)),  # FACILITATOR_FLAGS
    "several-memos": ((), ("skip-settle",)),  # FACILITATOR_FLAGS, SERVER_FLAGS
    "malformed-headers": ((), ("crash-on-malformed",)),
    "facilitator-down": ((), ("fail-open",)),
    "facilitator-slow": ((), ("fail-open",)),
    "facilitator-errors": ((), ("fail-open",)),
    "settlement-pending": ((), ("serve-unsettled",)),
    "chain-drops-transaction": ((), ("serve-unsettled",)),
    "facilitator-lying": ((), ("trust-receipts",)),
    "handler-failure": ((), ("settle-failed-handler",)),
    # The facilitator still keeps ids: a resend is charged once, but the server runs its
    # handler again (a new order number): the retry stories see that.
    "payment-id-retry": ((), ("ignore-payment-ids",)),
    "payment-id-conflict": ((), ("ignore-payment-ids",)),
    "payment-id-required": ((), ("ignore-payment-ids",)),
    "payment-id-in-flight": ((), ("ignore-payment-ids",)),
    "discovery": ((), ("hide-route-from-discovery",)),
    "sign-in": ((), ("reuse-sign-in-nonce",)),
}


SYSTEM_PROGRAM = "11111111111111111111111111111111"
# Role-based with the System program allow-listed before and after the payment.
ALLOW_LISTED = (
    "--layout", "role-based",
    "--preflight-allow", SYSTEM_PROGRAM, "--postflight-allow", SYSTEM_PROGRAM,
)  # fmt: skip

# story -> the facilitator flags its stack needs (a story skipped on the default stack, or one
# that takes the paid branch only there)
FACILITATOR_FLAGS: dict[str, tuple[str, ...]] = {
    "first-time-merchant": ("--layout", "role-based", "--allow-create-ata"),
    "allow-listed-instructions": ALLOW_LISTED,
    "several-memos": ALLOW_LISTED,  # role-based: two memos paid when no extra.memo is offered
}

# story -> the server flags its stack needs; stories sharing bugs and flags share a stack
SERVER_FLAGS: dict[str, tuple[str, ...]] = {
    "allow-listed-instructions": ("--route-binding", "none"),  # shares several-memos' stack
    "several-memos": ("--route-binding", "none"),  # offers without extra.memo
}


def _groups() -> dict[tuple, list[str]]:
    groups: dict[tuple, list[str]] = {}
    for story, bugs in BROKEN.items():
        flags = (FACILITATOR_FLAGS.get(story, ()), SERVER_FLAGS.get(story, ()))
        groups.setdefault((*bugs, *flags), []).append(story)
    return groups


GROUPS = _groups()


def test_every_story_has_a_broken_stack() -> None:
    assert set(discover()) <= set(BROKEN), set(discover()) - set(BROKEN)
    for facilitator_bugs, server_bugs in BROKEN.values():
        assert set(facilitator_bugs) <= set(FACILITATOR_BUGS)
        assert set(server_bugs) <= set(SERVER_BUGS)


@pytest.mark.parametrize(
    ("bugs", "stories"),
    list(GROUPS.items()),
    ids=["+".join([*f, *s, *a, *b]) for f, s, a, b in GROUPS],
)
def test_each_story_fails_on_a_stack_with_its_bug(
    bugs: tuple, stories: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    facilitator_bugs, server_bugs, facilitator_flags, server_flags = bugs
    # The environment reaches every process the stack (or a story: a second server) starts.
    monkeypatch.setenv("X402_FACILITATOR_BUGS", ",".join(facilitator_bugs))
    monkeypatch.setenv("X402_SERVER_BUGS", ",".join(server_bugs))
    config = StackConfig(
        home=tmp_path,
        rpc_port=free_port_pair(),
        facilitator_port=free_port(),
        server_port=free_port(),
        slot_ms=0,
        payers=1,
        facilitator_args=facilitator_flags,
        server_args=server_flags,
    )
    stack = start_stack(config)
    try:
        # A broken stack says so (`up` and `status` print this as a red banner).
        reported = deliberate_bugs(stack)
        assert reported.get("facilitator", []) == sorted(facilitator_bugs)
        assert reported.get("server", []) == sorted(server_bugs)
        catalogue = discover()
        results = asyncio.run(
            run(
                [catalogue[name] for name in stories],
                stack.server_url,
                stack.facilitator_url,
                stack.rpc_url,
                timeout=45,
            )
        )
    finally:
        stop_stack(tmp_path, purge_state=True)
    # Failed by one of its own expectations: a crash or a timeout would prove nothing.
    noticed = {r.name for r in results if r.failed and not r.crashed}
    missed = {r.name: (r.status, r.detail) for r in results if r.name not in noticed}
    assert not missed, f"these stories did not notice {bugs}: {missed}"


@pytest.mark.parametrize("component", ["facilitator", "server"])
def test_an_unknown_bug_is_named(
    component: str, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    from solders.keypair import Keypair

    from sandbox.cli import main

    key = tmp_path / "fee-payer.json"
    key.write_text(Keypair().to_json())
    args = [component, "--bug", "skip-everything"]
    args += ["--fee-payer-keypair", str(key)] if component == "facilitator" else []
    args += ["--pay-to", "11111111111111111111111111111111"] if component == "server" else []
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main(args))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "unknown --bug skip-everything" in err and "choose from" in err
