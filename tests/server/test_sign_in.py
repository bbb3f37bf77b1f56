"""sign-in-with-x on the paywall, in process (sandbox/server/sign_in.py): a wallet that paid
signs in instead of paying; every way a sign-in is refused, each with its reason; the record of
who paid and the used nonces outlive a restart. The real stack: test_sign_in_stack.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from server_payments import pay_v2
from server_scripted_facilitator import ScriptedFacilitator
from server_tiny_app import PAY_TO
from solders.keypair import Keypair

from sandbox.protocol import decode_payment_required, reasons, siws
from sandbox.server import PaymentMiddleware, Paywall, PricedRoute, RoutePricing

ORIGIN = "http://members.test:8080"
SECRET = b"memo-secret-for-the-sign-in-test"


class PayerFacilitator(ScriptedFacilitator):
    """Says who paid, as a real facilitator does (the transfer authority: here the signer)."""

    payer = ""

    async def settle(self, request: dict):
        answer = await super().settle(request)
        return answer.model_copy(update={"payer": self.payer}) if answer.success else answer


def members_app(paywall: Paywall) -> tuple[FastAPI, dict[str, int]]:
    runs = {"members": 0, "other": 0}
    app = FastAPI()
    app.add_middleware(
        PaymentMiddleware,
        paywall=paywall,
        pricing=RoutePricing([
            PricedRoute("/members", "$0.01", "Members", sign_in=True, sign_in_statement="Hi"),
            PricedRoute("/other", "$0.01", "Another members' route", sign_in=True),
            PricedRoute("/plain", "$0.01", "No sign-in"),
        ]),
    )  # fmt: skip

    @app.get("/members")
    async def members():
        runs["members"] += 1
        return {"content": "members"}

    @app.get("/other")
    async def other():
        runs["other"] += 1
        return {"content": "other"}

    @app.get("/plain")
    async def plain():
        return {"content": "plain"}

    return app, runs


async def _ready(facilitator, record=None, bugs=frozenset()):
    paywall = Paywall(
        pay_to=PAY_TO, facilitator=facilitator, memo_secret=SECRET, payment_record=record,
        public_origin=ORIGIN, bugs=bugs,
    )  # fmt: skip
    app, runs = members_app(paywall)
    assert await paywall.wait_ready(5)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    # The Host the client sends is not the configured origin: the checks never look at it.
    return paywall, httpx.AsyncClient(transport=transport, base_url="http://t"), runs


@pytest.fixture
async def members():
    facilitator = PayerFacilitator()
    paywall, client, runs = await _ready(facilitator)
    yield client, facilitator, runs
    await client.aclose()
    await paywall.close()


def extension_of(response) -> dict:
    return decode_payment_required(response.headers["PAYMENT-REQUIRED"]).extensions[siws.EXTENSION]


async def sign_in(client, keypair: Keypair, path: str = "/members") -> tuple[dict, str]:
    """(headers, the header value) signing the challenge of `path`'s 402."""
    header = siws.encode_header(siws.sign(extension_of(await client.get(path)), keypair))
    return {siws.HEADER: header}, header


async def pay(client, facilitator, keypair: Keypair, path: str = "/members") -> None:
    facilitator.payer = str(keypair.pubkey())
    paid = await client.get(path, headers=pay_v2(await client.get(path), keypair))
    assert paid.status_code == 200, paid.text


def refusal(response) -> str:
    assert response.status_code == 402, response.text
    assert "sign-in refused" in response.json()["message"]
    return decode_payment_required(response.headers["PAYMENT-REQUIRED"]).error


async def test_the_402_declares_the_challenge_with_the_configured_origin(members) -> None:
    client, *_ = members
    first, second = (
        extension_of(await client.get("/members")),
        extension_of(await client.get("/members")),
    )
    info = first["info"]
    assert info["domain"] == "members.test:8080" and info["uri"] == ORIGIN + "/members"
    assert info["statement"] == "Hi" and len(info["nonce"]) == 32
    assert info["nonce"] != second["info"]["nonce"]  # a fresh one for every 402
    assert first["supportedChains"][0]["type"] == "ed25519"
    plain = decode_payment_required((await client.get("/plain")).headers["PAYMENT-REQUIRED"])
    assert siws.EXTENSION not in (plain.extensions or {})


async def test_a_wallet_that_paid_signs_in_without_paying_again(members) -> None:
    client, facilitator, runs = members
    keypair = Keypair()
    await pay(client, facilitator, keypair)
    headers, _ = await sign_in(client, keypair)
    opened = await client.get("/members", headers=headers)
    assert opened.status_code == 200 and opened.json() == {"content": "members"}
    assert "PAYMENT-RESPONSE" not in opened.headers
    assert facilitator.calls["settle"] == 1 and runs["members"] == 2


async def test_a_replayed_sign_in_is_refused(members) -> None:
    client, facilitator, runs = members
    keypair = Keypair()
    await pay(client, facilitator, keypair)
    headers, _ = await sign_in(client, keypair)
    assert (await client.get("/members", headers=headers)).status_code == 200
    assert refusal(await client.get("/members", headers=headers)) == reasons.SIGN_IN_NONCE_REUSED
    assert runs["members"] == 2


async def test_a_wallet_that_never_paid_is_refused(members) -> None:
    client, facilitator, runs = members
    headers, _ = await sign_in(client, Keypair())
    assert refusal(await client.get("/members", headers=headers)) == reasons.SIGN_IN_NOT_PAID
    # Paying for one sign-in route does not open another.
    keypair = Keypair()
    await pay(client, facilitator, keypair, "/other")
    headers, _ = await sign_in(client, keypair)
    assert refusal(await client.get("/members", headers=headers)) == reasons.SIGN_IN_NOT_PAID
    assert runs["members"] == 0


async def test_the_nonce_must_be_this_servers_for_this_route(members) -> None:
    client, facilitator, _ = members
    keypair = Keypair()
    await pay(client, facilitator, keypair)
    extension = extension_of(await client.get("/other"))  # another route's nonce
    extension["info"]["uri"] = ORIGIN + "/members"
    headers = {siws.HEADER: siws.encode_header(siws.sign(extension, keypair))}
    assert refusal(await client.get("/members", headers=headers)) == reasons.SIGN_IN_NONCE_UNKNOWN
    extension["info"]["nonce"] = "0" * 32  # one the client made up
    headers = {siws.HEADER: siws.encode_header(siws.sign(extension, keypair))}
    assert refusal(await client.get("/members", headers=headers)) == reasons.SIGN_IN_NONCE_UNKNOWN


async def test_a_message_for_another_origin_is_refused_whatever_the_host_header(members) -> None:
    client, facilitator, _ = members
    keypair = Keypair()
    await pay(client, facilitator, keypair)
    extension = extension_of(await client.get("/members"))
    extension["info"].update(domain="evil.test", uri="http://evil.test/members")
    headers = {siws.HEADER: siws.encode_header(siws.sign(extension, keypair)), "Host": "evil.test"}
    assert refusal(await client.get("/members", headers=headers)) == reasons.SIGN_IN_DOMAIN_MISMATCH


async def test_expired_future_and_forged_sign_ins_are_refused(members) -> None:
    client, facilitator, _ = members
    keypair = Keypair()
    await pay(client, facilitator, keypair)
    now = dt.datetime.now(dt.UTC)
    cases = [
        ({"issuedAt": siws.iso_time(now - dt.timedelta(minutes=6))}, reasons.SIGN_IN_TOO_OLD),
        (
            {"issuedAt": siws.iso_time(now + dt.timedelta(minutes=1))},
            reasons.SIGN_IN_ISSUED_IN_FUTURE,
        ),
        ({"expirationTime": siws.iso_time(now - dt.timedelta(seconds=1))}, reasons.SIGN_IN_EXPIRED),
        (
            {"notBefore": siws.iso_time(now + dt.timedelta(minutes=1))},
            reasons.SIGN_IN_NOT_YET_VALID,
        ),
    ]
    for change, reason in cases:
        extension = extension_of(await client.get("/members"))
        extension["info"].update(change)
        headers = {siws.HEADER: siws.encode_header(siws.sign(extension, keypair))}
        assert refusal(await client.get("/members", headers=headers)) == reason, change
    message = siws.sign(extension_of(await client.get("/members")), Keypair())
    forged = replace(message, address=str(keypair.pubkey()))  # someone else's signature
    headers = {siws.HEADER: siws.encode_header(forged)}
    assert (
        refusal(await client.get("/members", headers=headers)) == reasons.SIGN_IN_SIGNATURE_INVALID
    )


async def test_a_malformed_header_is_a_400_naming_the_problem(members) -> None:
    client, *_ = members
    answer = await client.get("/members", headers={siws.HEADER: "%%%"})
    assert answer.status_code == 400
    assert (
        answer.json()["error"] == reasons.INVALID_SIGN_IN and "base64" in answer.json()["message"]
    )


async def test_a_refused_sign_in_beside_a_payment_pays(members) -> None:
    client, facilitator, runs = members
    keypair = Keypair()
    facilitator.payer = str(keypair.pubkey())
    headers, _ = await sign_in(client, keypair)  # never paid: refused, so the payment is taken
    paid = await client.get(
        "/members", headers={**headers, **pay_v2(await client.get("/members"), keypair)}
    )
    assert paid.status_code == 200 and "PAYMENT-RESPONSE" in paid.headers
    assert facilitator.calls["settle"] == 1 and runs["members"] == 1


async def test_who_paid_and_the_used_nonces_outlive_a_restart(tmp_path) -> None:
    record = tmp_path / "server.sqlite"
    facilitator = PayerFacilitator()
    keypair = Keypair()
    paywall, client, _ = await _ready(facilitator, record)
    await pay(client, facilitator, keypair)
    used, _ = await sign_in(client, keypair)
    assert (await client.get("/members", headers=used)).status_code == 200
    await client.aclose()
    await paywall.close()

    paywall, client, _ = await _ready(facilitator, record)
    try:
        assert refusal(await client.get("/members", headers=used)) == reasons.SIGN_IN_NONCE_REUSED
        fresh, _ = await sign_in(client, keypair)
        assert (await client.get("/members", headers=fresh)).status_code == 200
        assert facilitator.calls["settle"] == 1
    finally:
        await client.aclose()
        await paywall.close()


async def test_the_reuse_sign_in_nonce_bug_lets_a_replay_in() -> None:
    facilitator = PayerFacilitator()
    paywall, client, _ = await _ready(facilitator, bugs=frozenset({"reuse-sign-in-nonce"}))
    try:
        keypair = Keypair()
        await pay(client, facilitator, keypair)
        headers, _ = await sign_in(client, keypair)
        for _ in range(2):
            assert (await client.get("/members", headers=headers)).status_code == 200
    finally:
        await client.aclose()
        await paywall.close()


async def test_hostile_sign_in_headers_get_a_400_or_402_never_a_5xx(members) -> None:
    import base64

    import orjson

    client, *_ = members
    extension = extension_of(await client.get("/members"))
    good = siws.sign(extension, Keypair()).to_wire()
    bodies = [
        b"\xff\xfe\x00",
        b"[" * 5000 + b"]" * 5000,
        orjson.dumps({**good, "issuedAt": 12}),
        orjson.dumps({**good, "resources": [1, 2]}),
        orjson.dumps({**good, "nonce": "n" * 5000}),
        orjson.dumps({**good, "uri": "http://[::1"}),
        orjson.dumps({**good, "issuedAt": "0001-01-01T00:00:00+14:00"}),
        orjson.dumps({**good, "address": "0" * 44, "signature": "1" * 88}),
        orjson.dumps({**good, "chainId": None}),
    ]
    for body in bodies:
        for value in (body, base64.b64encode(body)):
            answer = await client.get("/members", headers={siws.HEADER: value})
            assert answer.status_code in (400, 402), (body[:60], answer.status_code, answer.text)
