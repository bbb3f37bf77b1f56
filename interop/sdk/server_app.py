"""A paid API protected by the official SDK's FastAPI middleware (runs in .venv-interop).

Configured the documented way: `x402ResourceServer(HTTPFacilitatorClient(FacilitatorConfig(
url=...)))`, `register_exact_svm_server(...)`, `PaymentMiddlewareASGI(routes=..., server=...)`.
Pointing it at the sandbox changes only the facilitator URL (and, for blockhash hints, rpc_url).

    python interop/sdk/server_app.py --port 4031 --facilitator-url http://127.0.0.1:4022 \
        --pay-to WALLET [--rpc-url http://127.0.0.1:8899] [--memo TEXT]

Routes: GET /api/premium-content ($0.01), GET /api/weather ($0.001), GET /api/broken ($0.01,
handler answers 500), GET /health (free).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import uvicorn
from common import SOLANA_DEVNET
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from x402.http import FacilitatorConfig, HTTPFacilitatorClient
from x402.http.middleware.fastapi import PaymentMiddlewareASGI
from x402.mechanisms.svm.exact.register import register_exact_svm_server
from x402.server import x402ResourceServer

PRICES = {
    "/api/premium-content": "$0.01",
    "/api/weather": "$0.001",
    "/api/broken": "$0.01",
}


def routes_config(
    pay_to: str, network: str = SOLANA_DEVNET, memo: str | None = None
) -> dict[str, Any]:
    """The SDK's route table: one `exact` USDC option per paid route."""
    routes: dict[str, Any] = {}
    for path, price in PRICES.items():
        option: dict[str, Any] = {
            "scheme": "exact",
            "payTo": pay_to,
            "price": price,
            "network": network,
        }
        if memo:
            option["extra"] = {"memo": memo}
        routes[f"GET {path}"] = {
            "accepts": option,
            "description": f"interop route {path}",
            "mimeType": "application/json",
        }
    return routes


def create_app(
    facilitator_url: str,
    pay_to: str,
    network: str = SOLANA_DEVNET,
    rpc_url: str | None = None,
    memo: str | None = None,
    facilitator_client: Any = None,
) -> FastAPI:
    """The SDK-protected app; `facilitator_client` replaces the HTTP client (fixture generator)."""
    client = facilitator_client or HTTPFacilitatorClient(FacilitatorConfig(url=facilitator_url))
    server = x402ResourceServer(client)
    register_exact_svm_server(server, networks=network, rpc_url=rpc_url)

    app = FastAPI(title="x402 SDK paid server (interop)")
    app.add_middleware(
        PaymentMiddlewareASGI, routes=routes_config(pay_to, network, memo), server=server
    )

    @app.get("/health")
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/api/premium-content")
    def premium() -> dict[str, str]:
        return {"content": "premium content from the SDK-protected server"}

    @app.get("/api/weather")
    def weather() -> dict[str, Any]:
        return {"weather": "sunny", "temperature": 21}

    @app.get("/api/broken")
    def broken() -> JSONResponse:
        return JSONResponse({"error": "handler failed on purpose"}, status_code=500)

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4031)
    parser.add_argument("--facilitator-url", required=True)
    parser.add_argument("--pay-to", required=True)
    parser.add_argument("--network", default=SOLANA_DEVNET)
    parser.add_argument("--rpc-url", default=None, help="adds recentBlockhash hints to 402s")
    parser.add_argument("--memo", default=None, help="extra.memo for every route")
    args = parser.parse_args(argv)
    app = create_app(args.facilitator_url, args.pay_to, args.network, args.rpc_url, args.memo)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
