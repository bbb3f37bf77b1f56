"""The offer and its answers: what one request to a priced route costs, what a payment for it
must meet, and every answer the paywall gives that is not the content.

    Offers.price(...)               the request, priced (an Offer); PriceError -> 400
    Offers.bound_requirements(...)  the requirements a payment must meet here; BindingError when
                                    it was made for another request (see binding.py)
    Offers.challenge(...)           402: v1 JSON body + v2 PAYMENT-REQUIRED header, fresh memo
    not_ready / bad_request / malformed / facilitator_failed
                                    503 / 400 / 400 / 502 or 504, each a JSON {error, message}

The requirements and 402 bodies themselves are built by the scheme's server role
(sandbox/protocol/exact_svm/server.py); this module adds the route, the memo and the sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from sandbox.protocol import (
    PaymentPayload,
    ProtocolError,
    SettleResponse,
    encode_json_header,
    reasons,
    to_caip2,
    to_v1,
)
from sandbox.protocol.exact_svm.server import (
    payment_required_v1,
    payment_required_v2,
    requirements_v1,
    requirements_v2,
)
from sandbox.protocol.exact_svm.transaction import SCHEME, PaymentTransaction
from sandbox.server._asgi import Headers, send_json
from sandbox.server.binding import BindingError, MemoBinder, check_v1_payload, check_v2_accepted
from sandbox.server.errors import FacilitatorError
from sandbox.server.pricing import PricedRoute

__all__ = [
    "ROUTE_BINDINGS",
    "Offer",
    "Offers",
    "bad_request",
    "facilitator_failed",
    "malformed",
    "not_ready",
    "receipt_headers",
]

log = logging.getLogger("sandbox.server")

# "memo": every 402 carries a fresh extra.memo bound to the request (binding.py); "none": offers
# carry no memo, for clients that do not copy it (v2 payments are then bound by the requirements
# they echo, v1 payments by amount, mint and payTo alone).
ROUTE_BINDINGS = ("memo", "none")
_NO_MEMO = (
    "the transaction carries no Memo instruction: the client did not copy extra.memo into its "
    "transaction, which the exact scheme on Solana requires (a MUST). For a client that does not, "
    'run the sandbox with --route-binding none (make up ARGS="--route-binding none")'
)

NO_STORE = (b"cache-control", b"no-store")
EXPOSE = (
    b"access-control-expose-headers",
    b"PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE",
)


@dataclass(frozen=True, slots=True)
class Offer:
    """One request to a priced route, priced."""

    route: PricedRoute
    method: str
    path: str
    url: str
    amount: int
    pay_to: str
    assets: tuple[str, ...]  # one offer each, the first the default


class Offers:
    """What this server sells: its network, asset, wallet and fee payer, and the memos binding a
    payment to the request it was offered for."""

    def __init__(
        self,
        *,
        pay_to: str,
        network: str,
        asset: str,
        binder: MemoBinder,
        bugs: frozenset[str] = frozenset(),
        route_binding: str = "memo",
    ) -> None:
        if route_binding not in ROUTE_BINDINGS:
            raise ValueError(f"route_binding must be memo or none, not {route_binding!r}")
        self.network = to_caip2(network)
        self.network_v1 = to_v1(network)
        self.asset = asset
        self.pay_to = pay_to
        self.binder = binder
        self.bugs = bugs
        self.memo_binding = route_binding == "memo"
        self.fee_payer: str | None = None  # learned from the facilitator by the paywall
        # Fills in a 402's per-request extension fields (the sign-in challenge, sign_in.py).
        self.fill_extensions: Callable[[Offer, dict | None], dict | None] | None = None

    def price(self, scope, receive, route: PricedRoute) -> Offer:
        """The offer for this request; PriceError when a dynamic price refuses it."""
        request = Request(scope, receive)
        amount = route.amount(request) if route.dynamic else route.amount()
        return self.offer(route, scope["method"], scope["path"], str(request.url), amount)

    def offer(self, route: PricedRoute, method: str, path: str, url: str, amount: int) -> Offer:
        """`route` at `amount`, with this server's payTo and asset where the route sets none."""
        return Offer(
            route=route,
            method=method,
            path=path,
            url=url,
            amount=amount,
            pay_to=route.pay_to or self.pay_to,
            assets=route.assets or (self.asset,),
        )

    # ------------------------------------------------------------------ requirements

    def requirements_v2(self, offer: Offer, memo: str | None, asset: str | None = None) -> dict:
        return requirements_v2(
            network=self.network,
            amount=offer.amount,
            asset=asset or offer.assets[0],
            pay_to=offer.pay_to,
            max_timeout_seconds=offer.route.max_timeout_seconds,
            fee_payer=self.fee_payer,
            memo=memo,
        )

    def requirements_v1(self, offer: Offer, memo: str | None, asset: str | None = None) -> dict:
        route = offer.route
        return requirements_v1(
            network=self.network_v1,
            amount=offer.amount,
            resource=offer.url,
            description=route.description,
            mime_type=route.mime_type,
            pay_to=offer.pay_to,
            max_timeout_seconds=route.max_timeout_seconds,
            asset=asset or offer.assets[0],
            fee_payer=self.fee_payer,
            memo=memo,
        )

    def _memo_asset(self, memo: str | None, offer: Offer) -> str | None:
        """The asset of the offer this server issued `memo` for, or None when it did not."""
        if memo is None:
            return None
        for asset in offer.assets:
            if self.binder.valid(
                memo, offer.method, offer.path, offer.amount, self.network, asset, offer.pay_to
            ):
                return asset
        return None

    def bound_requirements(self, offer: Offer, payload, tx: PaymentTransaction) -> dict:
        """The requirements this payment must meet here, or BindingError if made for elsewhere."""
        where = f"{offer.method} {offer.path} at {offer.amount} atomic units"
        if "skip-route-binding" in self.bugs:
            if isinstance(payload, PaymentPayload):
                return payload.accepted.to_wire()
            return self.requirements_v1(offer, tx.memos[0] if tx.memos else "")
        if not self.memo_binding:
            # Bound by the requirements a v2 payment echoes; a v1 payment by what the
            # facilitator checks against these requirements (amount, mint, payTo).
            if isinstance(payload, PaymentPayload):
                echoed = payload.accepted.asset
                asset = echoed if echoed in offer.assets else None  # None: the first, refused
                offered = self.requirements_v2(offer, None, asset)
                check_v2_accepted(payload, offered, offer.path)
                return offered
            # A v1 payment names no asset: it is bound to the route's first one.
            check_v1_payload(payload, SCHEME, self.network_v1)
            return self.requirements_v1(offer, None)
        if not tx.memos:
            raise BindingError(reasons.SVM_MEMO_COUNT, _NO_MEMO)
        if isinstance(payload, PaymentPayload):
            memo = payload.accepted.memo
            asset = self._memo_asset(memo, offer)
            if asset is None:
                raise BindingError(
                    reasons.SVM_MEMO_MISMATCH,
                    f"accepted.extra.memo was not issued by this server for {where}: pay the "
                    "requirements of this route's own 402",
                )
            if memo not in tx.memos:
                raise BindingError(
                    reasons.SVM_MEMO_MISMATCH,
                    "the transaction's memo is not the accepted.extra.memo it claims to pay",
                )
            offered = self.requirements_v2(offer, memo, asset)
            check_v2_accepted(payload, offered, offer.path)
            return offered
        check_v1_payload(payload, SCHEME, self.network_v1)
        for memo in tx.memos:
            asset = self._memo_asset(memo, offer)
            if asset is not None:
                return self.requirements_v1(offer, memo, asset)
        raise BindingError(
            reasons.SVM_MEMO_MISMATCH,
            f"the transaction carries no memo issued by this server for {where}: pay the "
            "extra.memo of this route's own 402",
        )

    # ------------------------------------------------------------------ the 402

    async def challenge(
        self, send, offer: Offer, error: str, message: str, headers: Headers = ()
    ) -> str | None:
        """402 with a fresh memo per offered asset (none without memo binding): the v1 challenge
        as body, the v2 one in PAYMENT-REQUIRED. Returns the first memo (the payment's
        correlation id)."""
        memos = [
            self.binder.issue(
                offer.method, offer.path, offer.amount, self.network, asset, offer.pay_to
            )
            if self.memo_binding
            else None
            for asset in offer.assets
        ]
        route = offer.route
        required = payment_required_v2(
            error=error,
            url=offer.url,
            description=route.description,
            mime_type=route.mime_type,
            accepts=[
                self.requirements_v2(offer, memo, asset)
                for memo, asset in zip(memos, offer.assets, strict=True)
            ],
            extensions=(
                self.fill_extensions(offer, route.extensions)
                if self.fill_extensions and route.sign_in
                else route.extensions
            ),
            resource_metadata=route.resource_metadata,
        )
        body = payment_required_v1(
            error=error,
            message=message,
            accepts=[
                self.requirements_v1(offer, memo, asset)
                for memo, asset in zip(memos, offer.assets, strict=True)
            ],
        )
        await send_json(
            send,
            402,
            body,
            [
                (b"payment-required", encode_json_header(required).encode()),
                NO_STORE,
                EXPOSE,
                *headers,
            ],
        )
        return memos[0]


# ---------------------------------------------------------------------- other answers


def receipt_headers(name: bytes, receipt: SettleResponse) -> Headers:
    """The settlement receipt in PAYMENT-RESPONSE (v2) or X-PAYMENT-RESPONSE (v1), `name`."""
    return [(name, encode_json_header(receipt).encode()), EXPOSE, NO_STORE]


async def not_ready(send, facilitator_url: str, why: str) -> None:
    await send_json(
        send,
        503,
        {
            "error": "paywall_not_ready",
            "message": "this route is paid and the server cannot sell it yet: it has "
            "not learned the facilitator's fee payer from GET "
            f"{facilitator_url}/supported ({why}); retry shortly",
        },
        [NO_STORE, (b"retry-after", b"1")],
    )


async def bad_request(send, message: str) -> None:
    await send_json(send, 400, {"error": "invalid_request", "message": message})


async def malformed(send, exc: ProtocolError) -> None:
    await send_json(send, 400, {"error": exc.reason, "message": exc.message}, [NO_STORE])


async def facilitator_failed(send, exc: FacilitatorError, call: str) -> None:
    log.warning("facilitator %s failed: %s", call, exc.message)
    await send_json(
        send,
        exc.status,
        {
            "error": exc.code,
            "message": f"payment not {'verified' if call == 'verify' else 'settled'}, "
            f"content not served: {exc.message}",
        },
        [NO_STORE],
    )
