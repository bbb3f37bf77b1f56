"""Binding a payment to the request it was offered for.

Every 402 carries a fresh `extra.memo`:

    x402.<nonce: 16 hex>.<HMAC-SHA256(secret, nonce|METHOD|path|amount|network|asset|payTo): 32 hex>

The client must put it in the transaction's memo, and the facilitator checks that the
transaction's memo equals the `extra.memo` of the requirements the server sends it. So the server
can tell statelessly, from the memo alone, that it issued this payment's challenge for this very
method, path, price, network, asset and wallet: a payment made for another route is refused even
when both routes cost the same. The random nonce makes every challenge's memo unique, which also
makes every payment unique on chain (the facilitator refuses a reused memo as a replay).

What the official Python SDK (x402 2.x `find_matching_requirements`) does instead: it accepts a
v2 payment whose `accepted` has the same scheme, network, amount, asset and payTo as one of the
route's requirements; it ignores `extra` and `maxTimeoutSeconds` (later versions compare `extra`
as a subset) and never looks at the resource, so a payment for one route is accepted on any
other route of the same price and wallet. Differences here, on purpose:
- the memo check above (v1 and v2), which binds method, path and price;
- v2: `accepted` must equal the route's requirements field by field, including
  `maxTimeoutSeconds` and `extra.feePayer`; `resource.url`, when sent, must name this path;
- v1 payloads carry no requirements, only scheme and network: those must match, and the memo is
  read from the transaction itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from urllib.parse import urlsplit

from sandbox.protocol import PaymentPayload, PaymentPayloadV1, reasons, short_repr, to_caip2

__all__ = ["BindingError", "MemoBinder", "check_v1_payload", "check_v2_accepted"]

MEMO_PREFIX = "x402."


class BindingError(ValueError):
    """A well-formed payment that was not made for this request (answered with a 402)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class MemoBinder:
    """Issues and checks per-challenge memos with a secret key (random per process by default)."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or os.urandom(32)

    def _mac(
        self, nonce: str, method: str, path: str, amount: int, network: str, asset: str, pay_to: str
    ) -> str:
        # HEAD is paid like GET (the same handler answers it): bind them as one.
        method = "GET" if method == "HEAD" else method
        text = f"{nonce}|{method}|{path}|{amount}|{to_caip2(network)}|{asset}|{pay_to}"
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(
        self, method: str, path: str, amount: int, network: str, asset: str, pay_to: str
    ) -> str:
        nonce = secrets.token_hex(8)
        mac = self._mac(nonce, method, path, amount, network, asset, pay_to)
        return f"{MEMO_PREFIX}{nonce}.{mac}"

    def valid(
        self,
        memo: str,
        method: str,
        path: str,
        amount: int,
        network: str,
        asset: str,
        pay_to: str,
    ) -> bool:
        if not memo.startswith(MEMO_PREFIX) or len(memo) > 128:
            return False
        nonce, _, mac = memo[len(MEMO_PREFIX) :].partition(".")
        if len(nonce) != 16 or len(mac) != 32:
            return False
        expected = self._mac(nonce, method, path, amount, network, asset, pay_to)
        # Bytes, not str: compare_digest refuses non-ASCII text, and a memo is client input.
        return hmac.compare_digest(mac.encode(), expected.encode())


def check_v2_accepted(payload: PaymentPayload, offered: dict, path: str) -> None:
    """The client's echoed `accepted` must be exactly what this route offers (memo aside)."""
    accepted = payload.accepted
    if accepted.scheme != offered["scheme"]:
        raise BindingError(
            reasons.UNSUPPORTED_SCHEME,
            f"scheme {short_repr(accepted.scheme)} is not offered here; this route takes 'exact'",
        )
    if accepted.network != offered["network"]:
        raise BindingError(
            reasons.NETWORK_MISMATCH,
            f"network {short_repr(accepted.network)} is not this route's {offered['network']!r}",
        )
    fields = (
        ("amount", accepted.amount, offered["amount"]),
        ("asset", accepted.asset, offered["asset"]),
        ("payTo", accepted.pay_to, offered["payTo"]),
        ("maxTimeoutSeconds", accepted.max_timeout_seconds, offered["maxTimeoutSeconds"]),
        ("extra.feePayer", accepted.fee_payer, offered["extra"]["feePayer"]),
    )
    for name, got, wanted in fields:
        if got != wanted:
            reason = (
                reasons.SVM_AMOUNT_MISMATCH
                if name == "amount"
                else reasons.INVALID_PAYMENT_REQUIREMENTS
            )
            raise BindingError(
                reason, f"accepted.{name} is {short_repr(got)} but this route asks for {wanted!r}"
            )
    if payload.resource is not None and payload.resource.url:
        paid_path = urlsplit(payload.resource.url).path or "/"
        if paid_path != path:
            raise BindingError(
                reasons.INVALID_PAYMENT_REQUIREMENTS,
                f"payment was made for resource {short_repr(paid_path)}, not {path!r}",
            )


def check_v1_payload(payload: PaymentPayloadV1, scheme: str, network_v1: str) -> None:
    if payload.scheme != scheme:
        raise BindingError(
            reasons.UNSUPPORTED_SCHEME,
            f"scheme {short_repr(payload.scheme)} is not offered here; this route takes {scheme!r}",
        )
    if payload.network != network_v1:
        raise BindingError(
            reasons.NETWORK_MISMATCH,
            f"network {short_repr(payload.network)} is not this route's {network_v1!r}",
        )
