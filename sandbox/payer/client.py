"""X402Client: an HTTP client that pays 402s by itself (aiohttp, async; X402ClientSync blocks).

One request: send it; on 402 read the challenge (v2 PAYMENT-REQUIRED header, else the v1 JSON
body), let the policy choose an offer, build and sign the payment, send the request again once
with PAYMENT-SIGNATURE (v2) or X-PAYMENT (v1), and decode the receipt (PAYMENT-RESPONSE or
X-PAYMENT-RESPONSE). Each phase is timed: challenge, sign, paid request.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDictProxy
from solders.keypair import Keypair

from sandbox.payer.chain_facts import DEFAULT_BLOCKHASH_TTL, ChainFacts
from sandbox.payer.errors import ChallengeError, ServerUnreachable
from sandbox.payer.payment import Payment, blockhash_hint, build_payment
from sandbox.payer.policy import PaymentPolicy
from sandbox.payer.rpc import RpcClient
from sandbox.payer.sign_in import sign_in_headers
from sandbox.protocol import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    X_PAYMENT_RESPONSE,
    AnyRequirements,
    PaymentRequired,
    PaymentRequiredV1,
    ProtocolError,
    SettleResponse,
    decode_payment_required,
    decode_payment_required_v1,
    decode_settle_response,
    reasons,
)
from sandbox.protocol.payment_identifier import EXTENSION as PAYMENT_ID_EXTENSION
from sandbox.protocol.payment_identifier import new_payment_id
from sandbox.protocol.siws import HEADER as SIGN_IN_HEADER

__all__ = ["DEFAULT_RPC_URL", "PhaseTimings", "X402Client", "X402Response", "read_challenge"]

DEFAULT_RPC_URL = "http://127.0.0.1:8899"

Challenge = PaymentRequired | PaymentRequiredV1


@dataclass
class PhaseTimings:
    """Seconds spent in each phase; None for a phase that did not happen."""

    challenge: float | None = None  # first request until its 402 was read
    sign: float | None = None  # choose + chain facts (cached) + build and sign
    paid_request: float | None = None  # the paid request until its body was read

    @property
    def total(self) -> float:
        return sum(t for t in (self.challenge, self.sign, self.paid_request) if t is not None)


@dataclass
class X402Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    challenge: Challenge | None = None  # the 402 that was paid (or refused)
    requirements: AnyRequirements | None = None  # the offer chosen
    payment: Payment | None = None
    receipt: SettleResponse | None = None
    receipt_error: str | None = None  # the receipt header was present but malformed
    rejection: str | None = None  # why a 402 answering our payment refused it
    timings: PhaseTimings = field(default_factory=PhaseTimings)
    sign_in: str | None = None  # the SIGN-IN-WITH-X header sent (signed in instead of paying)
    # the server's extra.recentBlockhash, when a payment signed with it was refused because the
    # chain no longer knows it (this payment was then signed again with the chain's own)
    expired_hint: str | None = None

    @property
    def signed_in(self) -> bool:
        """Served on a sign-in, without a payment."""
        return self.sign_in is not None and self.ok

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def paid(self) -> bool:
        return self.payment is not None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return orjson.loads(self.body)


def read_challenge(
    headers: Mapping[str, str], body: bytes, version: int | None = None
) -> Challenge:
    """The 402's challenge: v2 from PAYMENT-REQUIRED, else v1 from the body.

    version forces one: 2 requires the header, 1 reads only the body.
    """
    header = headers.get(PAYMENT_REQUIRED)
    try:
        if header and version != 1:
            return decode_payment_required(header)
        if version == 2:
            raise ChallengeError("the 402 has no PAYMENT-REQUIRED header (no v2 challenge)")
        if not body.strip():
            raise ChallengeError("the 402 has neither a PAYMENT-REQUIRED header nor a JSON body")
        return decode_payment_required_v1(body)
    except ProtocolError as exc:
        raise ChallengeError(f"unreadable 402 challenge: {exc.message}") from None


def _read_receipt(headers: Mapping[str, str]) -> tuple[SettleResponse | None, str | None]:
    for name in (PAYMENT_RESPONSE, X_PAYMENT_RESPONSE):
        value = headers.get(name)
        if value:
            try:
                return decode_settle_response(value, name), None
            except ProtocolError as exc:
                return None, exc.message
    return None, None


def _rejection(
    status: int, headers: Mapping[str, str], body: bytes, receipt: SettleResponse | None
) -> str | None:
    """Why a server refused a payment: the new 402's `error` (verify failed), else the
    receipt's errorReason (settle failed)."""
    if status != 402:
        return None
    try:
        error = read_challenge(headers, body).error
    except ChallengeError:
        error = None
    if not error and receipt is not None and not receipt.success:
        error = receipt.error_reason or "settlement failed"
    return error or None


def _expired_hint(response: X402Response) -> bool:
    """The payment was signed with the server's extra.recentBlockhash and refused because the
    chain does not know that blockhash (it expired, or was never this chain's)."""
    payment = response.payment
    if payment is None or response.rejection != reasons.TRANSACTION_SIMULATION_FAILED:
        return False
    hint = blockhash_hint(payment.requirements)
    return (
        hint is not None
        and payment.transaction.message.recent_blockhash == hint
        and "BlockhashNotFound" in response.text
    )


class X402Client:
    """Pays 402s with `keypair`. Share one client across many concurrent requests: it keeps one
    aiohttp session and one blockhash/mint cache."""

    def __init__(
        self,
        keypair: Keypair,
        *,
        rpc_url: str = DEFAULT_RPC_URL,
        policy: PaymentPolicy | None = None,
        x402_version: int | None = None,
        session: aiohttp.ClientSession | None = None,
        blockhash_ttl: float = DEFAULT_BLOCKHASH_TTL,
        timeout: float = 30.0,
        chain_facts: ChainFacts | None = None,
        create_ata: bool = False,
        payment_ids: bool = True,
    ) -> None:
        if x402_version not in (None, 1, 2):
            raise ValueError("x402_version must be 1, 2 or None (prefer v2, fall back to v1)")
        self.keypair = keypair
        self.create_ata = create_ata  # prepend payTo's create-ATA (build_payment's create_ata)
        # Send a fresh payment-identifier wherever a 402 declares the extension (v2).
        self.payment_ids = payment_ids
        self.policy = policy or PaymentPolicy()
        self.x402_version = x402_version
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.facts = chain_facts or ChainFacts(
            RpcClient(rpc_url, session=session), blockhash_ttl=blockhash_ttl
        )

    @property
    def address(self) -> str:
        return str(self.keypair.pubkey())

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._owns_session = True
        return self._session

    async def _send(
        self, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> tuple[int, CIMultiDictProxy[str], bytes]:
        try:
            async with self._get_session().request(
                method, url, headers=headers, **kwargs
            ) as response:
                return response.status, response.headers, await response.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ServerUnreachable(url, str(exc) or type(exc).__name__) from None

    async def prepare(
        self,
        requirements: AnyRequirements,
        resource: Any = None,
        payment_id: str | None = None,
        extensions: dict[str, Any] | None = None,
        *,
        use_hint: bool = True,
    ) -> Payment:
        """Build and sign a payment for `requirements` (fetching mint facts and a blockhash);
        extensions: the 402's, echoed; use_hint: take `extra.recentBlockhash` when there is
        one (else the chain's, cached)."""
        mint = await self.facts.mint(requirements.asset)
        hint = blockhash_hint(requirements) if use_hint else None
        blockhash = hint or await self.facts.blockhash()
        return build_payment(
            requirements, self.keypair, mint, blockhash, resource=resource,
            create_ata=self.create_ata, payment_id=payment_id, extensions=extensions,
        )  # fmt: skip

    def _payment_id(self, challenge: Challenge, chosen: str | None) -> str | None:
        """The id to send: the caller's, else a fresh one where the 402 declares the extension."""
        if chosen is not None or not self.payment_ids:
            return chosen
        extensions = getattr(challenge, "extensions", None) or {}
        return new_payment_id() if PAYMENT_ID_EXTENSION in extensions else None

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: bytes | str | None = None,
        params: Mapping[str, str] | None = None,
        payment_id: str | None = None,
    ) -> X402Response:
        """Request `url`; pay its 402 once. payment_id: the payment-identifier to send (default:
        a fresh one where the 402 declares the extension, see `payment_ids`)."""
        base_headers = dict(headers or {})
        kwargs: dict[str, Any] = {"params": params}
        if json is not None:
            kwargs["data"] = orjson.dumps(json)
            base_headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            kwargs["data"] = data
        timings = PhaseTimings()

        started = time.perf_counter()
        status, response_headers, body = await self._send(method, url, base_headers, kwargs)
        timings.challenge = time.perf_counter() - started
        if status != 402:
            return X402Response(status, response_headers, body, url, timings=timings)

        started = time.perf_counter()
        challenge = read_challenge(response_headers, body, self.x402_version)
        requirements = self.policy.choose(challenge.accepts)
        resource = challenge.resource if isinstance(challenge, PaymentRequired) else None
        chosen_id = payment_id
        payment_id = self._payment_id(challenge, chosen_id)
        extensions = getattr(challenge, "extensions", None)
        payment = await self.prepare(requirements, resource, payment_id, extensions)
        timings.sign = time.perf_counter() - started
        response = await self._pay(method, url, base_headers, kwargs, challenge, payment, timings)
        if not _expired_hint(response):
            return response
        # The server's blockhash hint had expired: a transaction signed with it can never land,
        # so one signed again with the chain's own blockhash cannot charge twice.
        refused_after = timings.paid_request or 0.0
        payment_id = self._payment_id(challenge, chosen_id)
        payment = await self.prepare(requirements, resource, payment_id, extensions, use_hint=False)
        response = await self._pay(method, url, base_headers, kwargs, challenge, payment, timings)
        timings.paid_request = (timings.paid_request or 0.0) + refused_after
        response.expired_hint = str(blockhash_hint(requirements))
        return response

    async def sign_in(
        self, url: str, *, method: str = "GET", headers: Mapping[str, str] | None = None
    ) -> X402Response:
        """Request `url` and answer its 402 by signing in (sign_in.py), never by paying; the
        response's `rejection` says why a refused sign-in was refused."""
        base_headers = dict(headers or {})
        timings = PhaseTimings()
        started = time.perf_counter()
        status, response_headers, body = await self._send(method, url, base_headers, {})
        timings.challenge = time.perf_counter() - started
        if status != 402:
            return X402Response(status, response_headers, body, url, timings=timings)
        challenge = read_challenge(response_headers, body)
        signed = sign_in_headers(challenge, self.keypair)
        started = time.perf_counter()
        status, response_headers, body = await self._send(
            method, url, {**base_headers, **signed}, {}
        )
        timings.paid_request = time.perf_counter() - started
        refused = _rejection(status, response_headers, body, None)
        if refused is None and status == 400:  # a header the server could not read
            try:
                refused = str(orjson.loads(body).get("error")) or None
            except (orjson.JSONDecodeError, AttributeError):
                refused = "bad_request"
        return X402Response(
            status, response_headers, body, url, challenge=challenge, rejection=refused,
            timings=timings, sign_in=signed[SIGN_IN_HEADER],
        )  # fmt: skip

    async def resend(self, response: X402Response, **kwargs: Any) -> X402Response:
        """Send the very payment of `response` again (a retry after a lost answer): with a
        payment identifier the server answers what it answered the first time."""
        if response.payment is None or response.challenge is None:
            raise ValueError("resend() needs the answer of a paid request (it made no payment)")
        method = kwargs.pop("method", "GET")
        base_headers = dict(kwargs.pop("headers", None) or {})
        return await self._pay(
            method, response.url, base_headers, kwargs, response.challenge, response.payment,
            PhaseTimings(),
        )  # fmt: skip

    async def _pay(
        self,
        method: str,
        url: str,
        base_headers: dict[str, str],
        kwargs: dict[str, Any],
        challenge: Challenge,
        payment: Payment,
        timings: PhaseTimings,
    ) -> X402Response:
        started = time.perf_counter()
        paid_headers = {**base_headers, **payment.headers}
        status, response_headers, body = await self._send(method, url, paid_headers, kwargs)
        timings.paid_request = time.perf_counter() - started
        receipt, receipt_error = _read_receipt(response_headers)
        requirements = payment.requirements
        return X402Response(
            status,
            response_headers,
            body,
            url,
            challenge=challenge,
            requirements=requirements,
            payment=payment,
            receipt=receipt,
            receipt_error=receipt_error,
            rejection=_rejection(status, response_headers, body, receipt),
            timings=timings,
        )

    async def get(self, url: str, **kwargs: Any) -> X402Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> X402Response:
        return await self.request("POST", url, **kwargs)

    async def close(self) -> None:
        await self.facts.rpc.close()
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> X402Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
