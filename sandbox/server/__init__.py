"""The sample paid server and its reusable x402 middleware (v1 and v2, exact scheme on Solana).

Public surface:
    PricedRoute, RoutePricing, PriceError      put a price on routes (pricing.py)
    Paywall, PaymentMiddleware                 the ASGI paywall (paywall.py, middleware.py)
    FacilitatorClient, FacilitatorError...     talking to a facilitator (facilitator_client.py)
    FacilitatorApi                             what Paywall(facilitator=...) accepts instead

Inside: paywall.py is the flow; offer.py the offer and every answer that is not content (402,
400, 502/504, 503); settlement.py settling, the pending record (pending.py, kept in the SQLite
file of payment_record.py) and what a receipt must prove;
the requirements and 402 bodies come from sandbox/protocol/exact_svm/server.py.
    ServerSettings, create_app                 the sample app (settings.py, app.py)
"""

from sandbox.server.app import create_app, sample_pricing
from sandbox.server.errors import (
    FacilitatorBadAnswer,
    FacilitatorError,
    FacilitatorTimeout,
    FacilitatorUnreachable,
    SettlementNotProven,
    SettlementUnconfirmed,
)
from sandbox.server.facilitator_client import FacilitatorApi, FacilitatorClient
from sandbox.server.middleware import PaymentMiddleware
from sandbox.server.paywall import Paywall
from sandbox.server.pricing import PricedRoute, PriceError, RoutePricing
from sandbox.server.settings import ServerSettings

__all__ = [
    "FacilitatorApi",
    "FacilitatorBadAnswer",
    "FacilitatorClient",
    "FacilitatorError",
    "FacilitatorTimeout",
    "FacilitatorUnreachable",
    "PaymentMiddleware",
    "Paywall",
    "PriceError",
    "PricedRoute",
    "RoutePricing",
    "ServerSettings",
    "SettlementNotProven",
    "SettlementUnconfirmed",
    "create_app",
    "sample_pricing",
]
