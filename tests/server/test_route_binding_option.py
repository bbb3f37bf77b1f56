"""`--route-binding memo|none`: a memo-less payment is told why under memo (the default) and is
paid under none, whose offers carry no extra.memo."""

from __future__ import annotations

import base64

import httpx
import pytest
from server_payments import memo_transaction
from server_tiny_app import PAY_TO, tiny_app
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol import (
    decode_payment_required,
    decode_payment_required_v1,
    encode_json_header,
    reasons,
)
from sandbox.server import Paywall
from sandbox.server.app import MEMO_BINDING_OFF, create_app
from sandbox.server.cli import build_parser
from sandbox.server.settings import ServerSettings

SYSTEM_PROGRAM = Pubkey.from_string("11111111111111111111111111111111")


def memo_less_transaction(payer: Keypair, fee_payer: str) -> str:
    """A transaction without any Memo instruction (as x402-fetch 1.2 and x402-solana build)."""
    instruction = Instruction(SYSTEM_PROGRAM, bytes(12), [AccountMeta(payer.pubkey(), True, True)])
    message = MessageV0.try_compile(
        Pubkey.from_string(fee_payer), [instruction], [], Hash.new_unique()
    )
    signature = payer.sign_message(to_bytes_versioned(message))
    tx = VersionedTransaction.populate(message, [Signature.default(), signature])
    return base64.b64encode(bytes(tx)).decode()


def pay(response, payer: Keypair, version: int, with_memo: bool = False) -> dict[str, str]:
    """The payment header for the 402 `response`, its transaction without a memo (or with a
    random one: a client's own nonce)."""
    if version == 2:
        required = decode_payment_required(response.headers["PAYMENT-REQUIRED"])
    else:
        required = decode_payment_required_v1(response.content)
    accepted = required.accepts[0]
    tx = (
        memo_transaction(payer, accepted.fee_payer, str(Keypair().pubkey())[:16])
        if with_memo
        else memo_less_transaction(payer, accepted.fee_payer)
    )
    if version == 2:
        payload = {
            "x402Version": 2,
            "resource": required.resource.to_wire(),
            "accepted": accepted.to_wire(),
            "payload": {"transaction": tx},
        }
        return {"PAYMENT-SIGNATURE": encode_json_header(payload)}
    payload = {
        "x402Version": 1,
        "scheme": accepted.scheme,
        "network": accepted.network,
        "payload": {"transaction": tx},
    }
    return {"X-PAYMENT": encode_json_header(payload)}


@pytest.fixture
async def unbound(facilitator):
    """(client, paywall, runs) for the tiny app behind a paywall with --route-binding none."""
    paywall = Paywall(
        facilitator_url=facilitator.url,
        pay_to=PAY_TO,
        facilitator_timeout=1.0,
        route_binding="none",
    )
    app, runs = tiny_app(paywall)
    assert await paywall.wait_ready(10)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client, paywall, runs
    await paywall.close()


@pytest.mark.parametrize("version", [2, 1])
async def test_memo_less_payment_is_told_to_copy_extra_memo(stack, facilitator, payer, version):
    client, _, runs = stack
    response = await client.get("/a", headers=pay(await client.get("/a"), payer, version))
    assert response.status_code == 402
    body = response.json()
    assert body["error"] == reasons.SVM_MEMO_COUNT == "invalid_exact_svm_payload_memo_count"
    assert "did not copy extra.memo" in body["message"] and "MUST" in body["message"]
    assert "--route-binding none" in body["message"]
    assert runs["a"] == 0 and facilitator.calls["verify"] == 0


@pytest.mark.parametrize("version", [2, 1])
async def test_without_memo_binding_offers_carry_no_memo(unbound, version):
    client, paywall, _ = unbound
    challenge = await client.get("/a")
    assert challenge.status_code == 402
    if version == 2:
        offer = decode_payment_required(challenge.headers["PAYMENT-REQUIRED"]).accepts[0]
    else:
        offer = decode_payment_required_v1(challenge.content).accepts[0]
    assert offer.extra == {"feePayer": paywall.fee_payer}
    assert offer.memo is None


@pytest.mark.parametrize("with_memo", [False, True])
@pytest.mark.parametrize("version", [2, 1])
async def test_without_memo_binding_a_memo_less_payment_is_paid_once(
    unbound, facilitator, payer, version, with_memo
):
    client, _, runs = unbound
    headers = pay(await client.get("/a"), payer, version, with_memo)
    response = await client.get("/a", headers=headers)
    assert response.status_code == 200, response.text
    assert runs["a"] == 1 and facilitator.calls["settle"] == 1
    sent = facilitator.bodies[-1]["paymentRequirements"]
    assert "memo" not in sent["extra"]
    assert sent["payTo"] == PAY_TO
    again = await client.get("/a", headers=headers)
    assert again.status_code == 402 and again.json()["error"] == "duplicate_settlement"
    assert len(facilitator.settled) == 1


async def test_without_memo_binding_v2_is_bound_by_the_echoed_requirements(
    unbound, facilitator, payer
):
    client, _, runs = unbound
    headers = pay(await client.get("/a"), payer, 2)
    response = await client.get("/b", headers=headers)  # same price, another resource
    assert response.status_code == 402
    assert response.json()["error"] == reasons.INVALID_PAYMENT_REQUIREMENTS
    response = await client.get("/dyn?n=5", headers=pay(await client.get("/dyn?n=1"), payer, 2))
    assert response.status_code == 402
    assert response.json()["error"] == reasons.SVM_AMOUNT_MISMATCH
    assert runs["b"] == runs["dyn"] == 0 and facilitator.calls["verify"] == 0


@pytest.mark.parametrize("binding", ["memo", "none"])
async def test_health_says_whether_memo_binding_is_on(facilitator, binding):
    settings = ServerSettings(pay_to=PAY_TO, facilitator_url=facilitator.url, route_binding=binding)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        health = (await client.get("/health")).json()
    await app.state.paywall.close()
    assert health["routeBinding"] == binding
    assert health.get("warnings", []) == ([MEMO_BINDING_OFF] if binding == "none" else [])
    if binding == "none":
        assert "memo binding is off" in health["warnings"][0]


def test_flag_environment_and_validation(monkeypatch):
    assert build_parser().parse_args([]).route_binding == "memo"
    assert build_parser().parse_args(["--route-binding", "none"]).route_binding == "none"
    monkeypatch.setenv("X402_SANDBOX_SERVER_ROUTE_BINDING", "none")
    assert build_parser().parse_args([]).route_binding == "none"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--route-binding", "tuple"])
    with pytest.raises(ValueError, match="--route-binding"):
        ServerSettings(pay_to=PAY_TO, route_binding="tuple")
    with pytest.raises(ValueError, match="route_binding"):
        Paywall(facilitator_url="http://127.0.0.1:1", pay_to=PAY_TO, route_binding="tuple")
