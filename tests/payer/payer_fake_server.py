"""A test double of a paid server: a small paid HTTP server and Solana JSON-RPC backed by a
LiteSVM `InProcessChain`, on loopback (not the real paywall, sandbox.server.Paywall).

It answers 402 the way x402 servers do (v2 PAYMENT-REQUIRED header and v1 JSON body), and
settles a payment by fee-payer-signing and executing it on the ledger: so client tests see real
execution and real balances, over real HTTP.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from aiohttp import web
from payer_ledger import InProcessChain, fee_payer_sign
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

from sandbox.payer import build_payment
from sandbox.protocol import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    X_PAYMENT_RESPONSE,
    PaymentPayload,
    PaymentRequired,
    PaymentRequiredV1,
    ProtocolError,
    ResourceInfo,
    SettleResponse,
    decode_payment_payload,
    encode_json_header,
    to_v1,
)


class FakePaidServer:
    def __init__(
        self, ledger: InProcessChain, price: int = 10_000, versions: tuple[int, ...] = (1, 2)
    ):
        self.ledger = ledger
        self.price = price
        self.versions = versions
        self.rpc_calls: list[str] = []
        self.payments: list[Any] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.extra: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def rpc_url(self) -> str:
        return f"{self.url}/rpc"

    async def start(self) -> FakePaidServer:
        app = web.Application()
        app.router.add_post("/rpc", self.rpc)
        app.router.add_get("/free", self.free)
        app.router.add_route("*", "/paid", self.paid)
        app.router.add_get("/garbage-402", self.garbage_402)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ JSON-RPC

    async def rpc(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        method, params = body["method"], body.get("params", [])
        self.rpc_calls.append(method)
        context = {"slot": 1}
        if method == "getLatestBlockhash":
            value: Any = {"blockhash": str(self.ledger.blockhash), "lastValidBlockHeight": 150}
            result: Any = {"context": context, "value": value}
        elif method == "getAccountInfo":
            from solders.pubkey import Pubkey

            account = self.ledger.svm.get_account(Pubkey.from_string(params[0]))
            value = None
            if account is not None:
                value = {
                    "lamports": account.lamports,
                    "owner": str(account.owner),
                    "data": [base64.b64encode(bytes(account.data)).decode(), "base64"],
                    "executable": account.executable,
                    "rentEpoch": 0,
                    "space": len(account.data),
                }
            result = {"context": context, "value": value}
        else:
            error = {"code": -32601, "message": f"Method not found: {method}"}
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "error": error})
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result})

    # ------------------------------------------------------------ paid routes

    async def free(self, request: web.Request) -> web.Response:
        return web.json_response({"free": True})

    async def garbage_402(self, request: web.Request) -> web.Response:
        return web.Response(status=402, headers={PAYMENT_REQUIRED: "%%%not-base64"})

    def requirements(self):
        return self.ledger.requirements(self.price, **self.extra)

    def challenge(self, error: str = "payment required") -> web.Response:
        headers = {"Cache-Control": "no-store"}
        body: dict[str, Any] = {}
        if 2 in self.versions:
            required = PaymentRequired(
                error=error,
                resource=ResourceInfo(url=f"{self.url}/paid", description="paid"),
                accepts=[self.requirements()],
            )
            headers[PAYMENT_REQUIRED] = encode_json_header(required)
        if 1 in self.versions:
            v1 = self.ledger.requirements_v1(self.price, **self.extra)
            v1 = v1.model_copy(update={"resource": f"{self.url}/paid"})
            body = PaymentRequiredV1(error=error, accepts=[v1]).to_wire()
        return web.json_response(body, status=402, headers=headers)

    async def paid(self, request: web.Request) -> web.Response:
        header = request.headers.get(PAYMENT_SIGNATURE) or request.headers.get(X_PAYMENT)
        if not header:
            return self.challenge()
        try:
            payload = decode_payment_payload(header)
        except ProtocolError as exc:
            return self.challenge(exc.message)
        self.payments.append(payload)
        v2 = isinstance(payload, PaymentPayload)
        if v2 and payload.accepted != self.requirements():
            return self.challenge("accepted does not match the requirements")
        transaction = VersionedTransaction.from_bytes(base64.b64decode(payload.transaction))
        signed = fee_payer_sign(transaction, self.ledger.fee_payer)
        result = self.ledger.svm.send_transaction(signed)
        network = payload.network if v2 else to_v1(payload.network)
        if isinstance(result, FailedTransactionMetadata):
            receipt = SettleResponse(
                success=False, error_reason="transaction_failed", network=network
            )
            status, content = 402, {}
        else:
            receipt = SettleResponse(
                success=True,
                payer=str(transaction.message.account_keys[1]),
                transaction=str(signed.signatures[0]),
                network=network,
            )
            status, content = 200, {"content": "premium", "method": request.method}
        name = PAYMENT_RESPONSE if v2 else X_PAYMENT_RESPONSE
        return web.json_response(
            content, status=status, headers={name: encode_json_header(receipt)}
        )


def expected_payment(paywall: FakePaidServer):
    """A correct payment for the paywall's current requirements (for comparisons)."""
    ledger = paywall.ledger
    return build_payment(paywall.requirements(), ledger.owner, ledger.mint_info, ledger.blockhash)
