"""Putting a price on a route, declared apart from the code that checks payments.

    pricing = RoutePricing([
        PricedRoute("/api/weather", price="$0.001", description="Weather now"),
        PricedRoute("/api/inference", price=per_token, mode="upfront"),
    ])

A price is a dollar string ("$0.01", USDC), an int of atomic units, or a callable that computes
either from the request (a dynamic price). The callable raises PriceError (or ValueError) to
refuse a request it cannot price; the client gets a 400 naming the problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request

from sandbox.protocol import bazaar, parse_price, siws
from sandbox.protocol.payment_identifier import EXTENSION, declaration

__all__ = [
    "PaymentIdentifierUse",
    "PriceError",
    "PriceFunction",
    "PricedRoute",
    "RoutePricing",
    "SettlementMode",
]

# "authorization": verify, run the handler, settle only if it answered < 400.
# "upfront": verify, settle, then run the handler (content whose cost is incurred up front).
SettlementMode = Literal["authorization", "upfront"]
PriceFunction = Callable[[Request], "str | int"]
# The payment-identifier extension (server/idempotent.py): not declared, declared, or required.
PaymentIdentifierUse = Literal["off", "optional", "required"]


class PriceError(ValueError):
    """A request the route cannot price (a dynamic price's input is missing or out of range)."""


@dataclass(frozen=True)
class PricedRoute:
    path: str
    price: str | int | PriceFunction
    description: str = ""
    mime_type: str = "application/json"
    pay_to: str | None = None  # None: the paywall's default wallet
    # The mints it is priced in, one offer each in its 402 ("$0.01" is 10,000 atomic units of a
    # 6-decimal stablecoin); empty: the paywall's default asset (USDC).
    assets: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("GET",)
    mode: SettlementMode = "authorization"
    max_timeout_seconds: int = 60
    payment_identifier: PaymentIdentifierUse = "off"
    # JSON Schema of the query parameters, shown in the discovery document (discovery.py).
    query_params: dict | None = field(default=None, hash=False, compare=False)
    # The bazaar extension (protocol/bazaar.py): declared in the 402 so that a facilitator can
    # catalogue the route; with the examples of a query and of an answer, and the provider
    # metadata the 402's `resource` carries (serviceName, tags).
    bazaar: bool = False
    query_example: dict | None = field(default=None, hash=False, compare=False)
    output_example: Any = field(default=None, hash=False, compare=False)
    service_name: str | None = None
    tags: tuple[str, ...] = ()
    # The sign-in-with-x extension (server/sign_in.py): a wallet that paid for the route once
    # opens it again by signing in; `sign_in_statement` is the text the wallet shows.
    sign_in: bool = False
    sign_in_statement: str | None = None

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"route path {self.path!r} must start with '/'")
        if self.mode not in ("authorization", "upfront"):
            raise ValueError(f"route {self.path}: mode must be 'authorization' or 'upfront'")
        if self.payment_identifier not in ("off", "optional", "required"):
            raise ValueError(
                f"route {self.path}: payment_identifier must be 'off', 'optional' or 'required'"
            )
        if self.max_timeout_seconds <= 0:
            raise ValueError(f"route {self.path}: max_timeout_seconds must be positive")
        methods = tuple(m.upper() for m in self.methods)
        if "GET" in methods and "HEAD" not in methods:
            # Starlette answers HEAD with the GET handler: it must not be a free way in.
            methods += ("HEAD",)
        object.__setattr__(self, "methods", methods)
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "assets", tuple(self.assets))
        object.__setattr__(self, "_extensions", self._declared_extensions())
        if not callable(self.price):
            # Fail at declaration, not at the first paying request.
            object.__setattr__(self, "_static_amount", self._checked(self.price))

    @property
    def extensions(self) -> dict | None:
        """What this route's 402 declares under `extensions` (made once, at declaration)."""
        return self._extensions  # type: ignore[attr-defined]

    @property
    def resource_metadata(self) -> dict[str, Any]:
        """The bazaar provider fields of the 402's `resource` (none without the extension)."""
        if not self.bazaar:
            return {}
        return bazaar.service_metadata({"serviceName": self.service_name, "tags": list(self.tags)})

    def _declared_extensions(self) -> dict | None:
        declared: dict[str, Any] = {}
        if self.payment_identifier != "off":
            declared[EXTENSION] = declaration(self.payment_identifier == "required")
        if self.bazaar:
            declared[bazaar.EXTENSION] = bazaar.declaration(
                self.methods[0],
                query_params=self.query_params,
                query_example=self.query_example,
                output_example=self.output_example,
                output_type="json" if self.mime_type == "application/json" else "text",
            )
        if self.sign_in:
            # Each 402 fills in the origin, nonce and times (SignIns.declare).
            declared[siws.EXTENSION] = siws.declaration(self.sign_in_statement)
        return declared or None

    @property
    def dynamic(self) -> bool:
        return callable(self.price)

    def amount(self, request: Request | None = None) -> int:
        """The price of this request in atomic units."""
        if not callable(self.price):
            return self._static_amount  # type: ignore[attr-defined]
        if request is None:
            raise PriceError(f"route {self.path} has a dynamic price and needs the request")
        try:
            value = self.price(request)
        except PriceError:
            raise
        except ValueError as exc:
            raise PriceError(str(exc)) from None
        try:
            return self._checked(value)
        except ValueError as exc:
            raise PriceError(f"route {self.path}: dynamic price: {exc}") from None

    def _checked(self, value: str | int) -> int:
        amount = parse_price(value)
        if amount <= 0:
            raise ValueError(f"route {self.path}: price must be more than zero, got {value!r}")
        return amount


class RoutePricing:
    """The table of priced routes: exact path and method match; everything else is free."""

    def __init__(self, routes: Iterable[PricedRoute]) -> None:
        self._routes: dict[tuple[str, str], PricedRoute] = {}
        self.routes: list[PricedRoute] = []
        for route in routes:
            for method in route.methods:
                key = (method, route.path)
                if key in self._routes:
                    raise ValueError(f"route {method} {route.path} is priced twice")
                self._routes[key] = route
            self.routes.append(route)

    def match(self, method: str, path: str) -> PricedRoute | None:
        return self._routes.get((method, path))

    def __len__(self) -> int:
        return len(self.routes)
