"""Rewrites of what a case's client reads and sends, as JSON: the hostile servers of some cases.

RewriteOffers     402 challenges (v2 header, v1 body) and receipts rewritten one way,
                  payment headers another, before the paywall reads them
network_disguise  offers and receipts say another network (mainnet) than the chain's, and
                  payments for it are settled on the chain anyway. A Solana transaction
                  names no cluster (only its blockhash ties it to one), so a client that
                  signs whatever network is offered with its devnet blockhash is charged
                  here, as it would be by such a server in the field.
stale_hint        every offer's extra.recentBlockhash is one the chain has expired
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import orjson

from sandbox.protocol import (
    SOLANA_DEVNET,
    SOLANA_MAINNET,
    ProtocolError,
    decode_json_header,
    encode_json_header,
)

__all__ = [
    "FROM_MAINNET",
    "PAYMENT_HEADERS",
    "TO_MAINNET",
    "RewriteOffers",
    "network_disguise",
    "stale_hint",
]

TO_MAINNET = {SOLANA_DEVNET: SOLANA_MAINNET, "solana-devnet": "solana"}
FROM_MAINNET = {value: key for key, value in TO_MAINNET.items()}
_OFFER_HEADERS = (b"payment-required", b"payment-response", b"x-payment-response")
PAYMENT_HEADERS = (b"payment-signature", b"x-payment")


def _renamed(value: Any, names: dict[str, str]) -> Any:
    """`value` with every string equal to a key of `names` replaced (JSON walked whole)."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    if isinstance(value, dict):
        return {key: _renamed(item, names) for key, item in value.items()}
    return value


def _rewrite_header(value: bytes, rewrite: Callable[[Any], Any]) -> bytes:
    try:
        return encode_json_header(rewrite(decode_json_header(value))).encode()
    except ProtocolError:
        return value  # not ours to repair: the paywall answers a malformed header itself


class RewriteOffers:
    """What the client reads (402 challenges, v2 header or v1 body, and receipts) rewritten by
    `offers`; what it sends (payment headers) by `payments`, before the paywall reads them."""

    def __init__(
        self,
        app,
        offers: Callable[[Any], Any],
        payments: Callable[[Any], Any] = lambda value: value,
    ) -> None:
        self.app = app
        self.offers = offers
        self.payments = payments

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [
            (name, _rewrite_header(value, self.payments) if name in PAYMENT_HEADERS else value)
            for name, value in scope["headers"]
        ]
        start: dict[str, Any] = {}
        body = bytearray()

        async def rewritten_send(message) -> None:
            # The v1 challenge is the JSON body: held whole, rewritten, its length fixed.
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            content = bytes(body)
            with contextlib.suppress(orjson.JSONDecodeError):
                content = orjson.dumps(self.offers(orjson.loads(content)))
            out = [
                (name, _rewrite_header(value, self.offers) if name in _OFFER_HEADERS else value)
                for name, value in start.get("headers", [])
                if name != b"content-length"
            ]
            out.append((b"content-length", str(len(content)).encode()))
            await send({**start, "headers": out})
            await send({"type": "http.response.body", "body": content})

        await self.app({**scope, "headers": headers}, receive, rewritten_send)


def network_disguise(app) -> RewriteOffers:
    """Offers say mainnet; the payments answering them are settled on the devnet twin."""
    return RewriteOffers(
        app,
        offers=lambda value: _renamed(value, TO_MAINNET),
        payments=lambda value: _renamed(value, FROM_MAINNET),
    )


def stale_hint(app, blockhash: str, last_valid_block_height: int) -> RewriteOffers:
    """Every offer carries `extra.recentBlockhash` = `blockhash`, one the chain has expired,
    with its `lastValidBlockHeight` (already passed: a careful client can tell)."""

    def hinted(value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("accepts"), list):
            for offer in value["accepts"]:
                if isinstance(offer, dict) and isinstance(offer.get("extra"), dict):
                    offer["extra"]["recentBlockhash"] = blockhash
                    offer["extra"]["lastValidBlockHeight"] = last_valid_block_height
        return value

    return RewriteOffers(app, offers=hinted)
