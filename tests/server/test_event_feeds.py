"""One payment through the whole stack shows in the server's and the facilitator's event feeds,
step by step, with one correlation id (the 402's memo) across both; a refusal too."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
import pytest

from sandbox.payer import PaymentPolicy, X402Client

pytestmark = pytest.mark.timeout(180)


def read_feed(url: str, until, timeout: float = 30) -> list[dict]:
    """The feed's events from its ring (?since=0) and live, until `until(events)` holds."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    with httpx.stream("GET", f"{url}/_sandbox/events?since=0", timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(orjson.loads(line[6:]))
                if until(events):
                    return events
            assert time.monotonic() < deadline, events
    raise AssertionError(events)


def test_a_payment_and_a_refusal_in_both_feeds(x402_stack, x402_payer):
    async def pay() -> str:
        async with X402Client(
            x402_payer.keypair, rpc_url=x402_stack.rpc_url, policy=PaymentPolicy()
        ) as client:
            response = await client.get(f"{x402_stack.server_url}/api/weather")
        assert response.status == 200, response.text
        return response.receipt.transaction

    transaction = asyncio.run(pay())
    settled = read_feed(
        x402_stack.server_url,
        lambda events: any(e["kind"] == "settle" and e["transaction"] == transaction
                           for e in events),
    )  # fmt: skip
    settle = next(e for e in settled if e["kind"] == "settle" and e["transaction"] == transaction)
    correlation = settle["correlation"]
    story = [e["kind"] for e in settled if e.get("correlation") == correlation]
    assert story == ["payment_required", "payment_received", "verify", "handler", "settle"]
    assert settle["payer"] == x402_payer.address and settle["ms"] > 0
    mine = [e for e in settled if e.get("correlation") == correlation]
    assert mine[2]["ok"] is True and mine[3]["status"] == 200
    # the facilitator saw the same payment under the same id
    seen = read_feed(
        x402_stack.facilitator_url,
        lambda events: any(e["kind"] == "settle" and e.get("transaction") == transaction
                           for e in events),
    )  # fmt: skip
    theirs = [e["kind"] for e in seen if e.get("correlation") == correlation]
    assert theirs == ["verify", "settle"]


def test_a_refusal_shows_with_its_reason_under_one_correlation(x402_stack, x402_rpc):
    from solders.keypair import Keypair

    poor = Keypair()  # SOL, no USDC: the facilitator's simulation refuses the transfer
    x402_rpc.call("requestAirdrop", str(poor.pubkey()), 1_000_000_000)

    async def pay():
        async with X402Client(poor, rpc_url=x402_stack.rpc_url, policy=PaymentPolicy()) as client:
            return await client.get(f"{x402_stack.server_url}/api/weather")

    response = asyncio.run(pay())
    assert response.status == 402 and response.rejection
    events = read_feed(
        x402_stack.server_url,
        lambda events: any(e["kind"] == "refused" and e.get("stage") == "verify"
                           and e.get("reason") == response.rejection for e in events),
    )  # fmt: skip
    refused = [e for e in events if e["kind"] == "refused" and e.get("stage") == "verify"][-1]
    story = [e["kind"] for e in events if e.get("correlation") == refused["correlation"]]
    assert story == ["payment_required", "payment_received", "verify", "refused"]
    assert refused["message"]


def test_the_feed_refuses_a_foreign_host(x402_stack):
    answer = httpx.get(
        f"{x402_stack.server_url}/_sandbox/events", headers={"Host": "evil.example"}, timeout=10
    )
    assert answer.status_code in (401, 403)
