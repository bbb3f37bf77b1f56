"""No payment paid but refused: a server killed mid-settlement, and chain errors in its check.

Real chain, facilitator and paid servers on loopback ports. The servers here keep their payment
record in a SQLite file (--payment-record) and a fixed memo secret, as `make up` gives them.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import httpx
import pytest
from server_stack import PaidStack, paid_stack, wait_for_first_402
from solders.keypair import Keypair

from sandbox.payer import X402Client
from sandbox.protocol import decode_payment_required

PRICE = 10_000  # /api/premium-content, atomic USDC
SECRET = "a-memo-secret-kept-across-restarts"
_SEND_AGAIN = {"settlement_pending", "duplicate_settlement"}  # 402s that ask for a resend
_SETTLE_DELAYS = re.compile(
    r'^facilitator_faults_injected_total\{endpoint="settle",kind="latency"\} (\S+)$', re.M
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> PaidStack:
    with paid_stack(tmp_path_factory.mktemp("restart-stack")) as running:
        yield running


async def until(condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    """Wait for `condition` (checked every 20 ms, the event loop running meanwhile)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.02)


def settle_delays(stack: PaidStack) -> float:
    """How many settle requests the facilitator has held back with the latency fault."""
    found = _SETTLE_DELAYS.search(httpx.get(stack.facilitator_url + "/metrics", timeout=10).text)
    return float(found.group(1)) if found else 0.0


def set_chain_faults(stack: PaidStack, faults: dict) -> None:
    """sandbox_setFaults, sent again while the chain's own error fault refuses it."""
    deadline = time.monotonic() + 30
    while True:
        try:
            stack.rpc.call("sandbox_setFaults", faults)
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise


async def payments(stack: PaidStack, url: str, payer: Keypair, count: int) -> list:
    async with (
        httpx.AsyncClient(timeout=30) as http,
        X402Client(payer, rpc_url=stack.rpc_url) as client,
    ):
        prepared = []
        for _ in range(count):
            required = decode_payment_required((await http.get(url)).headers["PAYMENT-REQUIRED"])
            prepared.append(await client.prepare(required.accepts[0], required.resource))
    return prepared


async def test_a_server_killed_while_the_facilitator_settles_serves_the_resend_once(
    stack, tmp_path
):
    """kill -9 while the facilitator holds the /settle (a 3 s latency fault), which then
    settles; the restarted server serves the resend once and refuses the next."""
    server_url, server = stack.start_server(
        "server-killed",
        "--facilitator-url", stack.facilitator_url, "--facilitator-timeout", "30",
        "--payment-record", str(tmp_path / "payments.sqlite3"), "--memo-secret", SECRET,
    )  # fmt: skip
    wait_for_first_402(server_url)
    url = server_url + "/api/premium-content"
    (payment,) = await payments(stack, url, stack.new_payer(), 1)
    merchant_before = stack.rpc.usdc(stack.merchant)
    delays_before = settle_delays(stack)
    stack.faults({"endpoint": "settle", "kind": "latency", "ms": 3000})
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            first = asyncio.create_task(http.get(url, headers=payment.headers))
            await until(lambda: settle_delays(stack) > delays_before, what="the settle to arrive")
            server.popen.kill()
            server.popen.wait(10)
            with pytest.raises(httpx.TransportError):
                await first
        await until(
            lambda: stack.rpc.usdc(stack.merchant) == merchant_before + PRICE,
            what="the facilitator to finish settling",
        )
    finally:
        stack.faults()

    server.start().wait_healthy(60)
    wait_for_first_402(server_url)
    async with httpx.AsyncClient(timeout=30) as http:
        served = await http.get(url, headers=payment.headers)
        assert served.status_code == 200, served.text
        assert served.json()["kind"] == "premium" and "PAYMENT-RESPONSE" in served.headers
        again = await http.get(url, headers=payment.headers)
    assert again.status_code == 402, again.text
    assert again.json()["error"] == "duplicate_settlement"
    assert stack.rpc.usdc(stack.merchant) == merchant_before + PRICE


async def test_chain_errors_during_the_receipt_check_leave_no_payment_paid_but_refused(
    stack, tmp_path
):
    """30% of chain RPC calls fail (the server's receipt check and the facilitator's calls
    alike). Each payment is sent again while the answer says to (5xx, settlement_pending,
    duplicate_settlement); a refusal that moved nothing (a send the chain refused) ends it.
    The merchant is paid exactly for the payments served, each served once."""
    server_url, _ = stack.start_server(
        "server-checking",
        "--facilitator-url", stack.facilitator_url, "--rpc-url", stack.rpc_url,
        "--payment-record", str(tmp_path / "payments.sqlite3"), "--memo-secret", SECRET,
    )  # fmt: skip
    wait_for_first_402(server_url)
    url = server_url + "/api/premium-content"
    prepared = await payments(stack, url, stack.new_payer(), 16)
    merchant_before = stack.rpc.usdc(stack.merchant)
    answers: list[list[str]] = [[] for _ in prepared]
    served = [0] * len(prepared)
    set_chain_faults(stack, {"errorRate": 0.3})
    try:
        async with httpx.AsyncClient(timeout=30) as http:

            async def pay_until_answered(index: int) -> None:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    answer = await http.get(url, headers=prepared[index].headers)
                    error = answer.json().get("error")
                    answers[index].append(f"{answer.status_code}:{error}")
                    if answer.status_code == 200:
                        served[index] += 1
                        return
                    if answer.status_code == 402 and error not in _SEND_AGAIN:
                        return  # refused, and nothing moved: the chain refused the send
                    await asyncio.sleep(0.1)  # resend, as a client told to does

            await asyncio.gather(*(pay_until_answered(i) for i in range(len(prepared))))
    finally:
        set_chain_faults(stack, {"errorRate": 0.0})
    merchant_received = stack.rpc.usdc(stack.merchant) - merchant_before
    report = dict(enumerate(answers))
    assert merchant_received == PRICE * sum(served), f"paid but not served: {report}"
    assert all(count <= 1 for count in served) and sum(served) >= 3, report
    async with httpx.AsyncClient(timeout=30) as http:
        for payment in prepared:  # and none is served again
            again = await http.get(url, headers=payment.headers)
            assert again.status_code == 402, again.text
    assert stack.rpc.usdc(stack.merchant) == merchant_before + merchant_received
