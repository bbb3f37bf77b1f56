"""Locust users for a paid server: the whole x402 round trip, and the 402 challenge alone.

Each iteration of PaidFlowUser reports four entries:
    GET  challenge     the unpaid request until its 402 was read
    x402 sign          read the challenge, choose the offer, build and sign the payment
    GET  paid request  the request with the payment until its 200 was read
    x402 round trip    all of the above, one entry per attempt (failed if any phase failed)
Signing is the pure `sandbox.payer.build_payment` with a cached blockhash (the server's
`extra.recentBlockhash` hint when it gives one) and mint facts fetched once. Where the 402
declares payment-identifier, each payment carries a fresh id, as the sandbox payer sends one
(X402_LOADTEST_PAYMENT_IDS=off: none).
"""

from __future__ import annotations

import time
from typing import Any

from locust import FastHttpUser, task

from loadtests.accounting import ACCOUNTING
from loadtests.runtime import fire, pacing, runtime
from sandbox.payer import PaymentPolicy, blockhash_hint, build_payment, read_challenge
from sandbox.protocol import (
    PAYMENT_RESPONSE,
    X_PAYMENT_RESPONSE,
    PaymentRequired,
    ProtocolError,
    decode_settle_response,
)
from sandbox.protocol.payment_identifier import EXTENSION as PAYMENT_ID
from sandbox.protocol.payment_identifier import new_payment_id

__all__ = ["ChallengeUser", "PaidFlowUser", "PayingUser"]


class PhaseFailed(Exception):
    """A phase of the round trip failed; already reported as its own entry."""


class PayingUser(FastHttpUser):
    """Abstract: a user that owns one payer wallet from the pool and signs x402 payments."""

    abstract = True
    wait_time = pacing()
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        rt = runtime()
        self.keypair = rt.pool.next()
        self.address = str(self.keypair.pubkey())
        self.chain = rt.chain
        self.policy = PaymentPolicy(max_amount=rt.targets.max_price, networks=None, assets=None)

    def report(self, name: str, started: float, error: str | None = None) -> None:
        fire(self.environment, "x402", name, started, PhaseFailed(error) if error else None)


class PaidFlowUser(PayingUser):
    """GET -> 402 -> sign -> paid GET -> 200, against X402_SANDBOX_SERVER_URL."""

    abstract = True  # made concrete by locustfile_paid.py with its host

    @task
    def paid_round_trip(self) -> None:
        path = runtime().targets.path
        started = time.perf_counter()
        try:
            challenge = self._challenge(path)
            payment, amount = self._sign(challenge)
            signature = self._paid_request(path, payment)
        except PhaseFailed as exc:
            self.report("round trip", started, str(exc))
            return
        ACCOUNTING.record_payment(self.address, amount, signature)
        self.report("round trip", started)

    def _challenge(self, path: str) -> tuple[Any, bytes]:
        with self.client.get(path, name="challenge", catch_response=True) as response:
            if response.status_code != 402:
                message = f"expected 402, got {response.status_code}"
                response.failure(message)
                raise PhaseFailed(f"challenge: {message}")
            response.success()
            return response.headers, response.content or b""

    def _sign(self, challenge: tuple[Any, bytes]) -> tuple[Any, int]:
        started = time.perf_counter()
        try:
            headers, body = challenge
            offer = read_challenge(headers, body)
            requirements = self.policy.choose(offer.accepts)
            mint = self.chain.mint(self.client, requirements.asset)
            blockhash = blockhash_hint(requirements) or self.chain.blockhash(self.client)
            resource = offer.resource if isinstance(offer, PaymentRequired) else None
            declared = PAYMENT_ID in (getattr(offer, "extensions", None) or {})
            payment_id = new_payment_id() if declared and runtime().targets.payment_ids else None
            begun = time.perf_counter()
            payment = build_payment(
                requirements, self.keypair, mint, blockhash, resource=resource,
                payment_id=payment_id,
            )  # fmt: skip
            ACCOUNTING.record_signing(time.perf_counter() - begun)
        except Exception as exc:  # any reason the payment could not be made is a failed sign
            message = f"{type(exc).__name__}: {exc}"
            self.report("sign", started, message)
            raise PhaseFailed(f"sign: {message}") from None
        self.report("sign", started)
        return payment, requirements.atomic_amount

    def _paid_request(self, path: str, payment: Any) -> str | None:
        with self.client.get(
            path, headers=payment.headers, name="paid request", catch_response=True
        ) as response:
            if response.status_code != 200:
                reason = _refusal(response)
                message = f"HTTP {response.status_code}" + (f" ({reason})" if reason else "")
                response.failure(message)
                raise PhaseFailed(f"paid request: {message}")
            response.success()
            return _receipt_signature(response.headers)


class ChallengeUser(PayingUser):
    """The unpaid GET and its 402 only: what the paywall costs without the facilitator."""

    abstract = True

    def on_start(self) -> None:  # no wallet needed
        pass

    @task
    def challenge(self) -> None:
        with self.client.get(
            runtime().targets.path, name="challenge", catch_response=True
        ) as response:
            if response.status_code != 402:
                response.failure(f"expected 402, got {response.status_code}")
            elif not response.headers.get("PAYMENT-REQUIRED"):
                response.failure("402 without a PAYMENT-REQUIRED header")
            else:
                response.success()


def _receipt_signature(headers: Any) -> str | None:
    for name in (PAYMENT_RESPONSE, X_PAYMENT_RESPONSE):
        value = headers.get(name)
        if value:
            try:
                receipt = decode_settle_response(value, name)
            except ProtocolError:
                return None
            return receipt.transaction if receipt.success and receipt.transaction else None
    return None


def _refusal(response: Any) -> str:
    """The x402 reason of a refused payment, wherever the server put it."""
    try:
        offer = read_challenge(response.headers, response.content or b"")
        if offer.error:
            return offer.error
    except Exception:
        pass
    return (response.text or "")[:120]
