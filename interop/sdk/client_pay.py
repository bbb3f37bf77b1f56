"""Pay one URL with the official SDK's httpx client (runs in .venv-interop); print JSON.

Configured the documented way: `x402Client()`, `register_exact_svm_client(client,
KeypairSigner(keypair), rpc_url=...)`, `httpx.AsyncClient(transport=x402_httpx_transport(client))`.
Pointing it at the sandbox changes only `rpc_url` (the SDK has no environment variable for it).

    python interop/sdk/client_pay.py URL --keypair payer.json --rpc-url http://127.0.0.1:8899 \
        [--max-amount 1] [--no-spend-controls]

Prints one JSON object: {"status", "body", "headers", "paymentRequired" (a final 402's decoded
PAYMENT-REQUIRED, whose `error` says why), "paymentResponse", "sent": [{"url",
"paymentSignature", "xPayment"} per request on the wire]}; exit 0 when the request completed
(whatever the status), 2 when the SDK raised (the error is in {"error": ...}).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
from typing import Any

import httpx
from common import load_keypair
from x402 import x402Client
from x402.http.clients.httpx import x402_httpx_transport
from x402.http.utils import decode_payment_response_header
from x402.mechanisms.svm import KeypairSigner
from x402.mechanisms.svm.exact.register import register_exact_svm_client


class RecordingTransport(httpx.AsyncHTTPTransport):
    """The wire transport under the SDK's: remembers the payment headers actually sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(
            {
                "url": str(request.url),
                "paymentSignature": request.headers.get("payment-signature"),
                "xPayment": request.headers.get("x-payment"),
            }
        )
        return await super().handle_async_request(request)


def build_client(keypair_path: str, rpc_url: str, max_amount: str | None, spend: bool) -> Any:
    client = x402Client()
    register_exact_svm_client(client, KeypairSigner(load_keypair(keypair_path)), rpc_url=rpc_url)
    if not spend:
        client.set_spend_controls(False)
    elif max_amount is not None:
        client.set_spend_controls({"max_amount_per_payment": max_amount})
    return client


async def pay(url: str, client: Any, timeout: float) -> dict[str, Any]:
    wire = RecordingTransport()
    result: dict[str, Any] = {"sent": wire.sent}
    async with httpx.AsyncClient(
        transport=x402_httpx_transport(client, wire), timeout=timeout
    ) as http:
        try:
            response = await http.get(url)
        except Exception as exc:  # the SDK wraps its failures in PaymentError
            result["error"] = f"{type(exc).__name__}: {exc}"
            return result
    result["status"] = response.status_code
    try:
        result["body"] = response.json()
    except ValueError:
        result["body"] = response.text
    result["headers"] = {k.lower(): v for k, v in response.headers.items()}
    receipt = response.headers.get("payment-response") or response.headers.get("x-payment-response")
    challenge = response.headers.get("payment-required")
    result["paymentRequired"] = json.loads(base64.b64decode(challenge)) if challenge else None
    result["paymentResponse"] = (
        decode_payment_response_header(receipt).model_dump(by_alias=True, exclude_none=True)
        if receipt
        else None
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--keypair", required=True)
    parser.add_argument("--rpc-url", required=True)
    parser.add_argument("--max-amount", default=None, help='USD cap, e.g. "$1" (SDK default)')
    parser.add_argument("--no-spend-controls", action="store_true")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    client = build_client(args.keypair, args.rpc_url, args.max_amount, not args.no_spend_controls)
    result = asyncio.run(pay(args.url, client, args.timeout))
    print(json.dumps(result))
    return 2 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
