"""`x402-sandbox listen`: a payment and a refusal each produce their lines, in order, under one
correlation id per payment, from both components' feeds."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

from sandbox.payer import PaymentPolicy, X402Client

pytestmark = pytest.mark.timeout(180)


def _wait_for(path, process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "listen did not connect"
        time.sleep(0.05)


def test_listen_prints_a_payment_and_a_refusal_in_order(x402_stack, x402_payer, x402_rpc, tmp_path):
    from solders.keypair import Keypair

    ready = tmp_path / "ready"
    listen = subprocess.Popen(
        [sys.executable, "-m", "sandbox.cli", "listen", "--home", x402_stack.home, "--json",
         "--count", "12", "--ready-file", str(ready)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(ready, listen)
        poor = Keypair()
        x402_rpc.call("requestAirdrop", str(poor.pubkey()), 1_000_000_000)

        async def pay(keypair):
            async with X402Client(
                keypair, rpc_url=x402_stack.rpc_url, policy=PaymentPolicy()
            ) as client:
                return await client.get(f"{x402_stack.server_url}/api/weather")

        paid = asyncio.run(pay(x402_payer.keypair))
        assert paid.status == 200
        refused = asyncio.run(pay(poor))
        assert refused.status == 402
        out, err = listen.communicate(timeout=60)
    finally:
        if listen.poll() is None:
            listen.kill()
    assert listen.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    by_payment: dict[str, list[tuple[str, str]]] = {}
    for event in events:
        by_payment.setdefault(event["correlation"], []).append((event["source"], event["kind"]))
    assert len(by_payment) == 2, by_payment
    first, second = by_payment.values()
    server_steps = [kind for source, kind in first if source == "server"]
    assert server_steps == ["payment_required", "payment_received", "verify", "handler", "settle"]
    assert [kind for source, kind in first if source == "facilitator"] == ["verify", "settle"]
    assert [kind for source, kind in second if source == "server"] == [
        "payment_required", "payment_received", "verify", "refused",
    ]  # fmt: skip
    last = [e for e in events if e["kind"] == "refused"][-1]
    assert last["reason"] == refused.rejection


def test_a_line_says_what_the_step_says():
    import argparse

    from sandbox.listen import event_line, matches

    refused = {"id": 3, "time": 0, "source": "server", "kind": "refused", "stage": "verify",
               "correlation": "abcdef123456", "reason": "insufficient_funds",
               "message": "the payer's token account holds less than the amount"}  # fmt: skip
    line = event_line(refused)
    assert "refused" in line and "abcdef12" in line and "reason=insufficient_funds" in line
    assert "holds less than the amount" in line and "[red]" in line
    only = argparse.Namespace(failures=True, route=None, payer=None, reason=None)
    settle = {**refused, "kind": "settle", "ok": True, "reason": None}
    assert matches(refused, only) and not matches(settle, only)
