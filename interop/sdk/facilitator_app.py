"""The official SDK's facilitator, served over HTTP (runs in .venv-interop).

The SDK ships the facilitator as a library (`x402FacilitatorSync`) and leaves the HTTP layer to
the user, as its own examples do with FastAPI. This is that layer and nothing more: parse the body
with the SDK's parsers, call the SDK, serialise its answer the way the SDK serialises models
(camelCase, nulls left out). Every check is the SDK's own.

    python interop/sdk/facilitator_app.py --port 4032 --rpc-url http://127.0.0.1:8899 \
        --fee-payer-keypair fee-payer.json [--network solana:EtWT...]

Endpoints: POST /verify, POST /settle, GET /supported, GET /health.
A body the SDK's models reject gets 400 {"error": ...}; an exception inside the SDK gets 500
{"error": ...} (what the SDK's example facilitator does).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import uvicorn
from common import SOLANA_DEVNET, dump, load_keypair
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ValidationError
from x402 import x402FacilitatorSync
from x402.mechanisms.svm import FacilitatorKeypairSigner
from x402.mechanisms.svm.exact import register_exact_svm_facilitator
from x402.schemas import parse_payment_payload, parse_payment_requirements


def build_facilitator(
    keypair_paths: list[str], rpc_url: str, networks: list[str]
) -> x402FacilitatorSync:
    signer = FacilitatorKeypairSigner([load_keypair(p) for p in keypair_paths], rpc_url=rpc_url)
    facilitator = x402FacilitatorSync()
    register_exact_svm_facilitator(facilitator, signer, networks=networks)
    return facilitator


def create_app(facilitator: x402FacilitatorSync) -> FastAPI:
    app = FastAPI(title="x402 SDK facilitator (interop)")

    def parse(body: bytes) -> tuple[Any, Any] | JSONResponse:
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("request body must be a JSON object")
            payload = parse_payment_payload(data["paymentPayload"])
            requirements = parse_payment_requirements(
                payload.x402_version, data["paymentRequirements"]
            )
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            return JSONResponse({"error": f"invalid request: {exc}"}, status_code=400)
        return payload, requirements

    # Plain `def` endpoints: the SDK's signer makes blocking RPC calls, so they run in
    # Starlette's thread pool instead of stalling the event loop.
    @app.post("/verify")
    def verify(body: bytes = _body()) -> JSONResponse:
        parsed = parse(body)
        if isinstance(parsed, JSONResponse):
            return parsed
        try:
            return JSONResponse(dump(facilitator.verify(*parsed)))
        except Exception as exc:  # the SDK raises e.g. SchemeNotFoundError
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=500)

    @app.post("/settle")
    def settle(body: bytes = _body()) -> JSONResponse:
        parsed = parse(body)
        if isinstance(parsed, JSONResponse):
            return parsed
        try:
            return JSONResponse(dump(facilitator.settle(*parsed)))
        except Exception as exc:
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=500)

    @app.get("/supported")
    def supported() -> JSONResponse:
        return JSONResponse(dump(facilitator.get_supported()))

    @app.get("/health")
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    return app


def _body() -> Any:
    """FastAPI dependency giving the raw request body (no FastAPI-side validation)."""
    from fastapi import Depends

    async def read(request: Request) -> bytes:
        return await request.body()

    return Depends(read)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4032)
    parser.add_argument("--rpc-url", required=True)
    parser.add_argument("--fee-payer-keypair", action="append", required=True)
    parser.add_argument("--network", action="append", default=None)
    args = parser.parse_args(argv)
    facilitator = build_facilitator(
        args.fee_payer_keypair, args.rpc_url, args.network or [SOLANA_DEVNET]
    )
    uvicorn.run(create_app(facilitator), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
