# ruff: noqa: E402  (the SDK-side helpers are imported after sys.path is set)
"""Generate tests/fixtures/sdk/ with the official x402 SDK, offline (run in .venv-interop).

    .venv-interop/bin/python interop/generate_fixtures.py [--out tests/fixtures/sdk]

Everything is produced by the SDK's own code paths, wired together over loopback HTTP:
- the SDK's FastAPI middleware (interop/sdk/server_app.py) answers the 402s;
- the SDK's httpx client (x402Client + register_exact_svm_client) pays them;
- the SDK's facilitator (interop/sdk/facilitator_app.py, served by uvicorn) verifies and settles,
  called by the SDK's own HTTPFacilitatorClient;
- the only thing that is not the SDK is the RPC endpoint: interop/sdk/recording_rpc.py answers
  with fixed values (mint, blockhash, a clean simulation, "confirmed") and records every call.
  Each SDK role gets its own RPC URL path (/server, /client, /facilitator) so the log says who
  called what.

This is a generator, not a test: its output is committed and decoded by
tests/interop_fixtures/ in the project's own environment. Memo nonces are random (as the SDK makes
them), so signatures differ from run to run; everything else is fixed by the committed keypairs.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import socket
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "interop" / "sdk"))

import httpx
import uvicorn
from common import SOLANA_DEVNET, USDC_DEVNET_MINT, dump, load_keypair
from facilitator_app import build_facilitator
from facilitator_app import create_app as create_facilitator_app
from recording_rpc import RecordingRpc
from server_app import create_app as create_server_app
from solders.hash import Hash
from x402 import x402Client
from x402.http import FacilitatorConfig, HTTPFacilitatorClient
from x402.http.clients.httpx import x402_httpx_transport
from x402.http.utils import (
    decode_payment_required_header,
    decode_payment_response_header,
    encode_payment_signature_header,
)
from x402.http.x402_http_client import x402HTTPClient
from x402.mechanisms.svm import KeypairSigner
from x402.mechanisms.svm.exact.register import register_exact_svm_client
from x402.schemas import PaymentPayload
from x402.schemas.v1 import PaymentRequiredV1, PaymentRequirementsV1

BASE_URL = "http://127.0.0.1:4021"
ROUTE = "/api/premium-content"
SELLER_MEMO = "interop-fixture-memo-0001"
BLOCKHASH = str(Hash(hashlib.sha256(b"x402-sandbox interop fixture blockhash").digest()))
KEEP_HEADERS = ("payment-required", "payment-response", "cache-control", "content-type")


# ------------------------------------------------------------------ plumbing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """Pure ASGI wrapper: remembers each request body and response body (facilitator side)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.exchanges: list[dict[str, Any]] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_body, response = bytearray(), {"status": 0, "body": bytearray()}

        async def receive_and_keep() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                request_body.extend(message.get("body", b""))
            return message

        async def send_and_keep(message: dict) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            elif message["type"] == "http.response.body":
                response["body"].extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive_and_keep, send_and_keep)
        self.exchanges.append(
            {
                "path": scope["path"],
                "request": json.loads(request_body) if request_body else None,
                "status": response["status"],
                "response": json.loads(response["body"]) if response["body"] else None,
            }
        )

    def last(self, path: str) -> dict[str, Any]:
        return [e for e in self.exchanges if e["path"] == path][-1]


class ThreadedServer:
    """uvicorn on a loopback port in a daemon thread (for the SDK's HTTPFacilitatorClient)."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("facilitator app did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class WireLog(httpx.AsyncBaseTransport):
    """Between the SDK client and the app: every request's payment headers and every response."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.log: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.log.append(
            {
                "request": {
                    "method": request.method,
                    "url": str(request.url),
                    "paymentSignature": request.headers.get("payment-signature"),
                    "xPayment": request.headers.get("x-payment"),
                },
                "status": response.status_code,
                "headers": {
                    k.lower(): v for k, v in response.headers.items() if k.lower() in KEEP_HEADERS
                },
                "body": json.loads(body) if body else None,
            }
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )


def sdk_client(client_keypair: Path, rpc_url: str) -> x402Client:
    client = x402Client()
    register_exact_svm_client(client, KeypairSigner(load_keypair(client_keypair)), rpc_url=rpc_url)
    return client


async def paid_get(app: Any, client: x402Client) -> list[dict[str, Any]]:
    """The SDK client's whole round trip against an in-process app; returns the wire log."""
    wire = WireLog(httpx.ASGITransport(app=app))
    async with httpx.AsyncClient(
        transport=x402_httpx_transport(client, wire), base_url=BASE_URL, timeout=30
    ) as http:
        await http.get(ROUTE)
    return wire.log


async def plain_get(app: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    wire = WireLog(httpx.ASGITransport(app=app))
    async with httpx.AsyncClient(transport=wire, base_url=BASE_URL, timeout=30) as http:
        await http.get(ROUTE, headers=headers or {})
    return wire.log[-1]


def with_header(header: str) -> dict[str, Any]:
    """A base64 header value next to the JSON it carries."""
    return {"header": header, "decoded": json.loads(base64.b64decode(header))}


# ------------------------------------------------------------------ generation


async def generate(out: Path) -> dict[str, Any]:
    fixtures: dict[str, Any] = {}
    keys = {name: out / f"{name}-keypair.json" for name in ("client", "fee-payer", "pay-to")}
    pay_to = str(load_keypair(keys["pay-to"]).pubkey())

    with RecordingRpc(BLOCKHASH) as rpc:
        facilitator = build_facilitator(
            [str(keys["fee-payer"])], f"{rpc.url}/facilitator", [SOLANA_DEVNET]
        )
        recorder = Recorder(create_facilitator_app(facilitator))
        with ThreadedServer(recorder) as fac:
            fixtures["supported"] = dump(facilitator.get_supported())
            rpc_calls: dict[str, list] = {}

            # 1. The default configuration (no rpc_url on the server): no blockhash hints.
            plain_app = create_server_app(fac.url, pay_to)
            fixtures["challenge_v2"] = await plain_get(plain_app)
            header = fixtures["challenge_v2"]["headers"]["payment-required"]
            fixtures["payment_required_v2"] = json.loads(base64.b64decode(header))
            rpc.take_calls()

            # 2. A full paid round trip, server with rpc_url (blockhash hints in the 402).
            hinted_app = create_server_app(fac.url, pay_to, rpc_url=f"{rpc.url}/server")
            log = await paid_get(hinted_app, sdk_client(keys["client"], f"{rpc.url}/client"))
            challenge, paid = log[0], log[-1]
            fixtures["challenge_v2_hints"] = challenge
            fixtures["payment_signature_v2"] = with_header(paid["request"]["paymentSignature"])
            fixtures["paid_response_v2"] = paid
            fixtures["payment_response_v2"] = with_header(paid["headers"]["payment-response"])
            for step in ("verify", "settle"):
                exchange = recorder.last(f"/{step}")
                fixtures[f"{step}_request_v2"] = exchange["request"]
                fixtures[f"{step}_response_v2"] = exchange["response"]
            rpc_calls["v2_round_trip"] = rpc.take_calls()

            # 3. A route with a seller memo: the client must put extra.memo in its memo.
            memo_app = create_server_app(fac.url, pay_to, memo=SELLER_MEMO)
            log = await paid_get(memo_app, sdk_client(keys["client"], f"{rpc.url}/client"))
            fixtures["payment_signature_v2_memo"] = with_header(
                log[-1]["request"]["paymentSignature"]
            )
            rpc.take_calls()

            # 4. A payment whose `accepted` differs from the offer: the middleware's own 402.
            tampered = PaymentPayload.model_validate(fixtures["payment_signature_v2"]["decoded"])
            tampered.accepted.amount = str(int(tampered.accepted.amount) - 1)
            fixtures["challenge_v2_no_match"] = await plain_get(
                plain_app, {"PAYMENT-SIGNATURE": encode_payment_signature_header(tampered)}
            )

            # 5. v1: the SDK's server middleware is v2-only, so the v1 402 body is the SDK's
            # PaymentRequiredV1 model filled with the same terms; the SDK's v1 client pays it
            # and the SDK's HTTPFacilitatorClient sends the v1 verify/settle bodies.
            fixtures.update(await generate_v1(fac.url, rpc, keys, pay_to, fixtures))
            rpc_calls.update(fixtures.pop("_rpc_calls_v1"))
            for step in ("verify", "settle"):
                fixtures[f"{step}_request_v1"] = recorder.last(f"/{step}")["request"]

    fixtures["rpc_calls"] = rpc_calls
    fixtures["manifest"] = {
        "generator": "interop/generate_fixtures.py",
        "sdk": {
            "x402": version("x402"),
            "solana": version("solana"),
            "solders": version("solders"),
        },
        "network": SOLANA_DEVNET,
        "asset": USDC_DEVNET_MINT,
        "baseUrl": BASE_URL,
        "route": ROUTE,
        "recentBlockhash": BLOCKHASH,
        "sellerMemo": SELLER_MEMO,
        "addresses": {
            "client": str(load_keypair(keys["client"]).pubkey()),
            "feePayer": str(load_keypair(keys["fee-payer"]).pubkey()),
            "payTo": pay_to,
        },
    }
    return fixtures


async def generate_v1(
    facilitator_url: str, rpc: RecordingRpc, keys: dict[str, Path], pay_to: str, v2: dict
) -> dict[str, Any]:
    offer = v2["payment_required_v2"]["accepts"][0]
    v1_kind = next(
        k
        for k in v2["supported"]["kinds"]
        if k["x402Version"] == 1 and k["network"] == "solana-devnet"
    )
    required = PaymentRequiredV1(
        error="X-PAYMENT header is required",
        accepts=[
            PaymentRequirementsV1(
                scheme="exact",
                network=v1_kind["network"],
                max_amount_required=offer["amount"],
                resource=BASE_URL + ROUTE,
                description=f"interop route {ROUTE}",
                mime_type="application/json",
                pay_to=pay_to,
                max_timeout_seconds=offer["maxTimeoutSeconds"],
                asset=offer["asset"],
                extra={"feePayer": v1_kind["extra"]["feePayer"]},
            )
        ],
    )
    body = dump(required)
    http_client = x402HTTPClient(sdk_client(keys["client"], f"{rpc.url}/client"))
    parsed = http_client.get_payment_required_response(lambda _name: None, body)
    payload = await http_client.create_payment_payload(parsed)
    headers = http_client.encode_payment_signature_header(payload)
    client_calls = rpc.take_calls()

    out: dict[str, Any] = {
        "payment_required_v1": body,
        "x_payment_v1": with_header(headers["X-PAYMENT"]),
    }
    facilitator = HTTPFacilitatorClient(FacilitatorConfig(url=facilitator_url))
    verify = await facilitator.verify(payload, parsed.accepts[0])
    verify_calls = rpc.take_calls()
    settle = await facilitator.settle(payload, parsed.accepts[0])
    settle_calls = rpc.take_calls()
    await facilitator.aclose()
    out["verify_response_v1"] = dump(verify)
    out["settle_response_v1"] = dump(settle)
    out["_rpc_calls_v1"] = {
        "v1_client": client_calls,
        "v1_facilitator_verify": verify_calls,
        "v1_facilitator_settle": settle_calls,
    }
    return out


def check(fixtures: dict[str, Any]) -> None:
    """Sanity of what the SDK produced (the real field-by-field checks live in tests/)."""
    decode_payment_required_header(fixtures["challenge_v2"]["headers"]["payment-required"])
    decode_payment_response_header(fixtures["payment_response_v2"]["header"])
    assert fixtures["paid_response_v2"]["status"] == 200, fixtures["paid_response_v2"]
    assert fixtures["verify_response_v2"]["isValid"] is True, fixtures["verify_response_v2"]
    assert fixtures["settle_response_v2"]["success"] is True, fixtures["settle_response_v2"]
    assert fixtures["verify_response_v1"]["isValid"] is True, fixtures["verify_response_v1"]
    assert fixtures["challenge_v2_no_match"]["status"] == 402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "sdk")
    args = parser.parse_args(argv)
    fixtures = asyncio.run(generate(args.out))
    check(fixtures)
    for name, value in sorted(fixtures.items()):
        (args.out / f"{name}.json").write_text(json.dumps(value, indent=2) + "\n")
    print(f"wrote {len(fixtures)} fixtures to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
