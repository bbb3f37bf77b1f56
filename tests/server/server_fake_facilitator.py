"""A small facilitator stand-in served on a loopback port, for the middleware's error modes.

It checks nothing about the transfer (the real facilitator's job, covered by the integration
tests); it signs the payment's message with its fee-payer key on settle, like a real one, and can
misbehave in every way a server must survive.
"""

from __future__ import annotations

import asyncio
import base64
import json

from aiohttp import web
from solders.keypair import Keypair
from solders.message import to_bytes_versioned
from solders.signature import Signature
from solders.transaction import VersionedTransaction

NETWORK = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"

# Modes: ok, reject, pending (settle: pending `pending_times` times, then ok), fail, 500, html,
# garbage, hang, close, lie (success with a random signature), bad4xx (404 text),
# reason4xx (400 with a reason), duplicate (settle: duplicate_settlement with this payment's
# signature, as for a payment settled earlier), replay (duplicate_settlement, no signature,
# as for a memo nonce another transaction spent), deep (a success carrying an extra field
# nested 300 levels deep).


class FakeFacilitator:
    def __init__(self) -> None:
        self.key = Keypair()
        self.modes = {"supported": "ok", "verify": "ok", "settle": "ok"}
        self.calls = {"supported": 0, "verify": 0, "settle": 0}
        self.bodies: list[dict] = []
        self.pending_times = 1
        self.settled: set[str] = set()
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def fee_payer(self) -> str:
        return str(self.key.pubkey())

    async def start(self) -> FakeFacilitator:
        app = web.Application()
        app.router.add_get("/supported", self._supported)
        app.router.add_post("/verify", self._verify)
        app.router.add_post("/settle", self._settle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _misbehave(self, request: web.Request, mode: str) -> web.StreamResponse | None:
        if mode == "500":
            return web.Response(status=500, text="<html>Internal Server Error</html>")
        if mode == "html":
            return web.Response(
                status=200,
                text="<html><body>502 Bad Gateway</body></html>",
                content_type="text/html",
            )
        if mode == "garbage":
            return web.Response(
                status=200, body=b'{"isValid": tru', content_type="application/json"
            )
        if mode == "hang":
            await asyncio.sleep(30)
        if mode == "close":
            request.transport.close()
            return web.Response(status=200)
        if mode == "bad4xx":
            return web.Response(status=404, text="Not Found")
        return None

    async def _supported(self, request: web.Request) -> web.StreamResponse:
        self.calls["supported"] += 1
        answer = await self._misbehave(request, self.modes["supported"])
        if answer is not None:
            return answer
        extra = {"feePayer": self.fee_payer}
        return web.json_response(
            {
                "kinds": [
                    {"x402Version": 2, "scheme": "exact", "network": NETWORK, "extra": extra},
                    {
                        "x402Version": 1,
                        "scheme": "exact",
                        "network": "solana-devnet",
                        "extra": extra,
                    },
                ],
                "extensions": [],
                "signers": {"solana:*": [self.fee_payer]},
            }
        )

    async def _verify(self, request: web.Request) -> web.StreamResponse:
        self.calls["verify"] += 1
        mode = self.modes["verify"]
        answer = await self._misbehave(request, mode)
        if answer is not None:
            return answer
        body = await request.json()
        self.bodies.append(body)
        if mode == "reject":
            return web.json_response(
                {
                    "isValid": False,
                    "invalidReason": "invalid_exact_svm_payload_amount_insufficient",
                    "invalidMessage": "pays 1 atomic unit",
                }
            )
        if mode == "reason4xx":
            return web.json_response(
                {
                    "isValid": False,
                    "invalidReason": "invalid_payload",
                    "invalidMessage": "field missing",
                },
                status=400,
            )
        if mode == "deep":
            return _deep_answer({"isValid": True, "payer": "payer"})
        return web.json_response({"isValid": True, "payer": "payer"})

    async def _settle(self, request: web.Request) -> web.StreamResponse:
        self.calls["settle"] += 1
        mode = self.modes["settle"]
        answer = await self._misbehave(request, mode)
        if answer is not None:
            return answer
        body = await request.json()
        self.bodies.append(body)
        raw = base64.b64decode(body["paymentPayload"]["payload"]["transaction"])
        message = to_bytes_versioned(VersionedTransaction.from_bytes(raw).message)
        signature = str(self.key.sign_message(message))
        network = body["paymentRequirements"]["network"]
        if mode == "reject" or mode == "fail":
            return web.json_response(
                {
                    "success": False,
                    "errorReason": "transaction_failed",
                    "errorMessage": "custom program error 0x1",
                    "transaction": signature,
                    "network": network,
                }
            )
        if mode in ("duplicate", "replay") or (
            mode in ("ok", "pending") and signature in self.settled
        ):
            return web.json_response(
                {
                    "success": False,
                    "errorReason": "duplicate_settlement",
                    "transaction": "" if mode == "replay" else signature,
                    "network": network,
                }
            )
        if mode == "pending" and self.pending_times > 0:
            self.pending_times -= 1
            return web.json_response(
                {
                    "success": False,
                    "errorReason": "settlement_pending",
                    "transaction": signature,
                    "network": network,
                }
            )
        if mode == "deep":
            return _deep_answer({"success": True, "transaction": signature, "network": network})
        if mode == "lie":
            signature = str(Signature.new_unique())
        self.settled.add(signature)
        return web.json_response(
            {"success": True, "transaction": signature, "network": network, "payer": "payer"}
        )


def _deep_answer(answer: dict, levels: int = 300) -> web.Response:
    """`answer` plus an unknown field nested `levels` deep (written by hand: orjson stops at
    ~254 levels)."""
    text = json.dumps({**answer, "extraField": 0}).replace(
        '"extraField": 0', '"extraField": ' + "[" * levels + "1" + "]" * levels
    )
    return web.Response(status=200, text=text, content_type="application/json")
