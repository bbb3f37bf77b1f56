"""The sample server through the real facilitator and chain (processes on loopback ports)."""

from __future__ import annotations

import httpx
import pytest
from server_stack import PaidStack, paid_stack, wait_for_first_402

from sandbox.payer import X402Client
from sandbox.protocol import (
    decode_payment_required,
    decode_payment_required_v1,
    decode_settle_response,
)

ROUTES = [
    ("/api/premium-content", 10_000),
    ("/api/weather", 1_000),
    ("/api/inference?tokens=50", 500),
    ("/api/upfront", 10_000),
    ("/api/broken", 10_000),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> PaidStack:
    with paid_stack(tmp_path_factory.mktemp("paid-stack")) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults(stack):
    yield
    stack.faults()
    stack.rpc.call("sandbox_setFaults", {"dropRate": 0.0})


def transfer_of(stack: PaidStack, signature: str, owner: str) -> int:
    """USDC (atomic) that `owner` received in the transaction, read from the chain."""
    tx = stack.rpc.call(
        "getTransaction", signature, {"encoding": "json", "maxSupportedTransactionVersion": 0}
    )
    assert tx is not None and tx["meta"]["err"] is None

    def balance(key: str) -> int:
        found = [b for b in tx["meta"][key] if b.get("owner") == owner]
        return int(found[0]["uiTokenAmount"]["amount"]) if found else 0

    return balance("postTokenBalances") - balance("preTokenBalances")


@pytest.mark.parametrize("path, amount", ROUTES)
def test_each_route_challenges_in_v1_and_v2(stack, path, amount):
    response = httpx.get(stack.server_url + path)
    assert response.status_code == 402
    assert response.headers["cache-control"] == "no-store"
    v1 = decode_payment_required_v1(response.content).accepts[0]
    v2 = decode_payment_required(response.headers["PAYMENT-REQUIRED"])
    assert v1.network == "solana-devnet" and v2.accepts[0].network.startswith("solana:EtWT")
    assert int(v1.max_amount_required) == v2.accepts[0].atomic_amount == amount
    assert v1.fee_payer == v2.accepts[0].fee_payer == str(stack.fee_payer.pubkey())
    assert v1.pay_to == v2.accepts[0].pay_to == stack.merchant
    assert v2.resource.url == stack.server_url + path


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("path, amount", [ROUTES[0], ROUTES[2], ROUTES[3]])
async def test_paid_request_is_served_and_paid_on_chain(stack, version, path, amount):
    payer = stack.new_payer()
    before = stack.rpc.usdc(str(payer.pubkey()))
    async with X402Client(payer, rpc_url=stack.rpc_url, x402_version=version) as client:
        response = await client.get(stack.server_url + path)
    assert response.status == 200, response.text
    assert response.paid and response.receipt is not None and response.receipt.success
    header = "PAYMENT-RESPONSE" if version == 2 else "X-PAYMENT-RESPONSE"
    assert header in response.headers
    body = response.json()  # the handler's own content, not an error document
    assert isinstance(body, dict) and "error" not in body and body
    assert transfer_of(stack, response.receipt.transaction, stack.merchant) == amount
    assert stack.rpc.usdc(str(payer.pubkey())) == before - amount


@pytest.mark.parametrize("version", [1, 2])
async def test_payment_for_one_route_is_refused_on_another_of_the_same_price(stack, version):
    payer = stack.new_payer()
    before = stack.rpc.usdc(str(payer.pubkey()))
    async with X402Client(payer, rpc_url=stack.rpc_url, x402_version=version) as client:
        challenge = httpx.get(stack.server_url + "/api/premium-content")
        if version == 2:
            required = decode_payment_required(challenge.headers["PAYMENT-REQUIRED"])
            payment = await client.prepare(required.accepts[0], required.resource)
        else:
            payment = await client.prepare(decode_payment_required_v1(challenge.content).accepts[0])
    response = httpx.get(stack.server_url + "/api/upfront", headers=payment.headers)
    assert response.status_code == 402
    assert response.json()["error"] == "invalid_exact_svm_payload_memo_mismatch"
    assert stack.rpc.usdc(str(payer.pubkey())) == before
    # The same payment is still good where it was offered.
    assert httpx.get(stack.server_url + "/api/premium-content", headers=payment.headers).is_success


async def test_handler_failure_leaves_the_payer_balance_untouched(stack):
    payer = stack.new_payer()
    before = stack.rpc.usdc(str(payer.pubkey())), stack.rpc.usdc(stack.merchant)
    async with X402Client(payer, rpc_url=stack.rpc_url) as client:
        response = await client.get(stack.server_url + "/api/broken")
    assert response.status == 500 and response.paid and response.receipt is None
    assert (stack.rpc.usdc(str(payer.pubkey())), stack.rpc.usdc(stack.merchant)) == before


FAULTS = [
    ({"endpoint": "verify", "kind": "error500"}, 502),
    ({"endpoint": "verify", "kind": "html502"}, 502),
    ({"endpoint": "verify", "kind": "hang", "seconds": 6}, 504),
    ({"endpoint": "settle", "kind": "html502"}, 502),
    ({"endpoint": "settle", "kind": "hang", "seconds": 6}, 504),
    ({"endpoint": "settle", "kind": "fake_success"}, 502),  # success without sending
]


@pytest.mark.parametrize("fault, status", FAULTS, ids=lambda f: str(f))
@pytest.mark.parametrize("path", ["/api/premium-content", "/api/upfront"])
async def test_misbehaving_facilitator_never_serves_unpaid_content(stack, fault, status, path):
    payer = stack.new_payer()
    before = stack.rpc.usdc(str(payer.pubkey()))
    stack.faults(fault)
    async with X402Client(payer, rpc_url=stack.rpc_url) as client:
        response = await client.get(stack.server_url + path)
    assert response.status == status, response.text
    assert response.json()["error"].startswith(("facilitator", "settlement_not_proven"))
    assert "content" not in response.json() and "report" not in response.json()
    stack.faults()
    assert stack.rpc.usdc(str(payer.pubkey())) == before  # and nothing was paid


def test_facilitator_down_gives_502(stack, tmp_path):
    """A second facilitator the server learned its fee payer from, then stopped."""
    from server_stack import write_keypair

    from sandbox.processes import ManagedProcess, free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    facilitator = ManagedProcess(
        "facilitator-2",
        "sandbox.facilitator",
        [
            "--port", str(port), "--rpc-url", stack.rpc_url, "--ledger",
            str(tmp_path / "l.sqlite3"), "--fee-payer-keypair",
            str(write_keypair(tmp_path / "fp.json", stack.fee_payer)),
        ],
        f"{url}/health",
        tmp_path / "f2.log",
    ).start()  # fmt: skip
    try:
        facilitator.wait_healthy(60)
        server_url, server = stack.start_server("server-2", "--facilitator-url", url)
        challenge = wait_for_first_402(server_url)
        assert challenge.status_code == 402
    finally:
        facilitator.stop()
    payment = _payment_for(stack, challenge)
    response = httpx.get(server_url + "/api/weather", headers=payment.headers)
    assert response.status_code == 502 and response.json()["error"] == "facilitator_unreachable"
    server.stop()


def _payment_for(stack: PaidStack, challenge: httpx.Response, payer=None):
    import asyncio

    payer = payer or stack.new_payer()
    required = decode_payment_required(challenge.headers["PAYMENT-REQUIRED"])

    async def build():
        async with X402Client(payer, rpc_url=stack.rpc_url) as client:
            return await client.prepare(required.accepts[0], required.resource)

    return asyncio.run(build())  # sync tests only


async def test_pending_settlement_is_served_once_later_and_paid_once(stack):
    payer = stack.new_payer()
    before = stack.rpc.usdc(str(payer.pubkey())), stack.rpc.usdc(stack.merchant)
    url = stack.server_url + "/api/premium-content"
    async with httpx.AsyncClient(timeout=30) as http:
        challenge = await http.get(url)
        required = decode_payment_required(challenge.headers["PAYMENT-REQUIRED"])
        async with X402Client(payer, rpc_url=stack.rpc_url) as client:
            payment = await client.prepare(required.accepts[0], required.resource)
        stack.rpc.call("sandbox_setFaults", {"dropRate": 1.0})  # the chain loses every send
        first = await http.get(url, headers=payment.headers)
        assert first.status_code == 402, first.text
        assert first.json()["error"] == "settlement_pending"
        receipt = decode_settle_response(first.headers["PAYMENT-RESPONSE"])
        assert not receipt.success and receipt.transaction
        assert stack.rpc.usdc(str(payer.pubkey())) == before[0]

        stack.rpc.call("sandbox_setFaults", {"dropRate": 0.0})
        second = await http.get(url, headers=payment.headers)  # the same payment, later
        assert second.status_code == 200, second.text
        assert second.json()["kind"] == "premium"
        settled = decode_settle_response(second.headers["PAYMENT-RESPONSE"])
        assert settled.success and settled.transaction == receipt.transaction
        third = await http.get(url, headers=payment.headers)  # served once only
        assert third.status_code == 402
    assert stack.rpc.usdc(str(payer.pubkey())) == before[0] - 10_000  # paid once
    assert stack.rpc.usdc(stack.merchant) == before[1] + 10_000


def test_metrics_are_served(stack):
    httpx.get(stack.server_url + "/api/weather")
    text = httpx.get(stack.server_url + "/metrics").text
    assert 'x402_server_requests_total{outcome="challenge",route="/api/weather"}' in text
    assert "x402_server_facilitator_call_seconds_bucket" in text
