"""X402Client end to end over loopback HTTP against a paywall that settles on LiteSVM."""

from __future__ import annotations

import asyncio

import pytest
from payer_fake_server import FakePaidServer
from payer_ledger import INITIAL_BALANCE, InProcessChain
from solders.hash import Hash
from solders.signature import Signature

from sandbox.payer import (
    ChainFacts,
    ChallengeError,
    NoAcceptablePayment,
    PaymentPolicy,
    RpcClient,
    RpcUnreachable,
    ServerUnreachable,
    X402Client,
    X402ClientSync,
)
from sandbox.processes import free_port
from sandbox.protocol import PAYMENT_SIGNATURE, X_PAYMENT, PaymentPayload, PaymentPayloadV1


def client_for(paywall: FakePaidServer, **options) -> X402Client:
    options.setdefault("policy", PaymentPolicy(assets=None))
    return X402Client(paywall.ledger.owner, rpc_url=paywall.rpc_url, **options)


async def test_pays_a_v2_402_and_returns_the_receipt(paywall: FakePaidServer) -> None:
    ledger = paywall.ledger
    async with client_for(paywall) as client:
        response = await client.get(f"{paywall.url}/paid")
    assert response.status == 200 and response.json() == {"content": "premium", "method": "GET"}
    assert response.payment is not None and response.payment.header_name == PAYMENT_SIGNATURE
    assert isinstance(paywall.payments[0], PaymentPayload)
    assert paywall.payments[0].resource.url == f"{paywall.url}/paid"  # echoed from the 402
    receipt = response.receipt
    assert receipt is not None and receipt.success
    assert receipt.payer == str(ledger.owner.pubkey())
    executed = ledger.svm.get_transaction(Signature.from_string(receipt.transaction))
    assert executed is not None and executed.signature() == Signature.from_string(
        receipt.transaction
    )
    assert ledger.balance(ledger.pay_to) == 10_000
    assert ledger.balance(ledger.owner.pubkey()) == INITIAL_BALANCE - 10_000
    timings = response.timings
    assert timings.challenge > 0 and timings.sign > 0 and timings.paid_request > 0
    assert timings.total == pytest.approx(timings.challenge + timings.sign + timings.paid_request)
    assert sorted(paywall.rpc_calls) == ["getAccountInfo", "getLatestBlockhash"]


async def test_mint_and_blockhash_are_cached_across_payments(paywall: FakePaidServer) -> None:
    async with client_for(paywall, blockhash_ttl=60) as client:
        responses = await asyncio.gather(*(client.get(f"{paywall.url}/paid") for _ in range(8)))
    assert [r.status for r in responses] == [200] * 8
    assert len({r.payment.memo for r in responses}) == 8  # still unique payments
    assert paywall.rpc_calls.count("getLatestBlockhash") == 1  # one shared fetch
    assert paywall.rpc_calls.count("getAccountInfo") == 1
    assert paywall.ledger.balance(paywall.ledger.pay_to) == 80_000


async def test_blockhash_is_fetched_again_after_its_ttl(paywall: FakePaidServer) -> None:
    async with client_for(paywall, blockhash_ttl=0) as client:
        for _ in range(3):
            assert (await client.get(f"{paywall.url}/paid")).status == 200
    assert paywall.rpc_calls.count("getLatestBlockhash") == 3
    assert paywall.rpc_calls.count("getAccountInfo") == 1


async def test_recent_blockhash_hint_saves_the_rpc_call(paywall: FakePaidServer) -> None:
    paywall.extra = {"recentBlockhash": str(paywall.ledger.blockhash)}
    async with client_for(paywall) as client:
        response = await client.get(f"{paywall.url}/paid")
    assert response.status == 200
    assert "getLatestBlockhash" not in paywall.rpc_calls


async def test_v1_only_server_is_paid_with_x_payment(ledger: InProcessChain) -> None:
    paywall = await FakePaidServer(ledger, versions=(1,)).start()
    try:
        async with client_for(paywall) as client:
            response = await client.get(f"{paywall.url}/paid")
    finally:
        await paywall.stop()
    assert response.status == 200
    assert response.payment.header_name == X_PAYMENT
    assert isinstance(paywall.payments[0], PaymentPayloadV1)
    assert response.receipt.success and response.receipt.network == "solana-devnet"


async def test_forced_versions(paywall: FakePaidServer, ledger: InProcessChain) -> None:
    async with client_for(paywall, x402_version=1) as client:
        response = await client.get(f"{paywall.url}/paid")
    assert response.status == 200 and response.payment.version == 1
    v1_only = await FakePaidServer(ledger, versions=(1,)).start()
    try:
        async with client_for(v1_only, x402_version=2) as client:
            with pytest.raises(ChallengeError, match="no PAYMENT-REQUIRED header"):
                await client.get(f"{v1_only.url}/paid")
    finally:
        await v1_only.stop()


async def test_price_above_the_policy_is_not_paid(paywall: FakePaidServer) -> None:
    async with client_for(paywall, policy=PaymentPolicy(max_amount=9_999, assets=None)) as client:
        with pytest.raises(NoAcceptablePayment, match=r"price 0\.01 is above the maximum") as info:
            await client.get(f"{paywall.url}/paid")
    assert info.value.rejections and info.value.rejections[0][0].amount == "10000"
    assert paywall.payments == []
    assert paywall.ledger.balance(paywall.ledger.pay_to) == 0


async def test_free_route_is_not_paid(paywall: FakePaidServer) -> None:
    async with client_for(paywall) as client:
        response = await client.get(f"{paywall.url}/free")
    assert response.status == 200 and not response.paid
    assert response.timings.sign is None and paywall.rpc_calls == []


async def test_post_body_is_sent_again_with_the_payment(paywall: FakePaidServer) -> None:
    async with client_for(paywall) as client:
        response = await client.post(f"{paywall.url}/paid", json={"q": 1})
    assert response.status == 200 and response.json()["method"] == "POST"


async def test_failed_settlement_comes_back_as_a_refusal(paywall: FakePaidServer) -> None:
    paywall.ledger.fund(paywall.ledger.owner.pubkey(), 5)  # cannot cover the price
    async with client_for(paywall) as client:
        response = await client.get(f"{paywall.url}/paid")
    assert response.status == 402 and response.paid
    assert response.receipt is not None and not response.receipt.success
    assert response.receipt.error_reason == "transaction_failed"
    assert response.rejection == "transaction_failed"
    assert paywall.ledger.balance(paywall.ledger.pay_to) == 0


async def test_unreadable_402_is_a_challenge_error(paywall: FakePaidServer) -> None:
    async with client_for(paywall) as client:
        with pytest.raises(ChallengeError, match="not valid base64"):
            await client.get(f"{paywall.url}/garbage-402")


async def test_unreachable_server_and_rpc(paywall: FakePaidServer) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with client_for(paywall) as client:
        with pytest.raises(ServerUnreachable, match="cannot reach"):
            await client.get(f"{dead}/paid")
    async with X402Client(
        paywall.ledger.owner, rpc_url=f"{dead}/rpc", policy=PaymentPolicy(assets=None)
    ) as client:
        with pytest.raises(RpcUnreachable, match="cannot reach the chain's JSON-RPC"):
            await client.get(f"{paywall.url}/paid")


async def test_shared_chain_facts(paywall: FakePaidServer) -> None:
    facts = ChainFacts(RpcClient(paywall.rpc_url), blockhash_ttl=60)
    first = client_for(paywall, chain_facts=facts)
    second = X402Client(paywall.ledger.owner, chain_facts=facts, policy=PaymentPolicy(assets=None))
    try:
        assert (await first.get(f"{paywall.url}/paid")).status == 200
        assert (await second.get(f"{paywall.url}/paid")).status == 200
    finally:
        await first.close()
        await second.close()
    assert paywall.rpc_calls.count("getAccountInfo") == 1
    assert isinstance(await facts.blockhash(), Hash)


async def test_sync_client(paywall: FakePaidServer) -> None:
    def pay_twice():
        with X402ClientSync(
            paywall.ledger.owner, rpc_url=paywall.rpc_url, policy=PaymentPolicy(assets=None)
        ) as client:
            return [client.get(f"{paywall.url}/paid") for _ in range(2)]

    responses = await asyncio.to_thread(pay_twice)
    assert [r.status for r in responses] == [200, 200]
    assert all(r.receipt.success for r in responses)
    assert paywall.ledger.balance(paywall.ledger.pay_to) == 20_000
