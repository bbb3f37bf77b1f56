"""A loopback JSON-RPC recorder for the fixture generator (runs in .venv-interop).

It is NOT a chain and nothing in the test suite runs against it. It answers the handful of
methods the SDK calls with fixed, well-formed values so the generator can drive the SDK's real
code paths offline, and it records every request exactly as the SDK sent it: that log is how
interop/NOTES.md knows which RPC methods, params and commitments the SDK uses.
"""

from __future__ import annotations

import base64
import json
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from solders.transaction import VersionedTransaction

TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
DEVNET_GENESIS_HASH = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"
SLOT = 4242


def mint_account_data(decimals: int = 6, supply: int = 10**15) -> bytes:
    """SPL Token Mint layout (82 bytes): authority option, supply, decimals, init, freeze."""
    return (
        struct.pack("<I", 0)
        + bytes(32)
        + struct.pack("<Q", supply)
        + bytes([decimals, 1])
        + struct.pack("<I", 0)
        + bytes(32)
    )


class RecordingRpc:
    """Serve on 127.0.0.1:<free port>; `calls` holds every {caller, method, params} in order.

    `caller` is the URL path the request came to: give each SDK role its own path.
    """

    def __init__(self, blockhash: str, last_valid_block_height: int = 1_000) -> None:
        self.blockhash = blockhash
        self.last_valid_block_height = last_valid_block_height
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> RecordingRpc:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def take_calls(self) -> list[dict[str, Any]]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls

    def answer(self, method: str, params: list[Any]) -> Any:
        context = {"slot": SLOT, "apiVersion": "2.2.0"}
        if method == "getAccountInfo":
            data = base64.b64encode(mint_account_data()).decode()
            value = {
                "data": [data, "base64"],
                "executable": False,
                "lamports": 1_461_600,
                "owner": TOKEN_PROGRAM,
                "rentEpoch": 18446744073709551615,
                "space": 82,
            }
            return {"context": context, "value": value}
        if method == "getLatestBlockhash":
            value = {
                "blockhash": self.blockhash,
                "lastValidBlockHeight": self.last_valid_block_height,
            }
            return {"context": context, "value": value}
        if method == "simulateTransaction":
            value = {
                "err": None,
                "logs": [],
                "accounts": None,
                "unitsConsumed": 6_000,
                "returnData": None,
                "innerInstructions": None,
                "replacementBlockhash": None,
            }
            return {"context": context, "value": value}
        if method == "sendTransaction":
            raw = base64.b64decode(params[0])
            return str(VersionedTransaction.from_bytes(raw).signatures[0])
        if method == "getSignatureStatuses":
            status = {
                "slot": SLOT,
                "confirmations": None,
                "err": None,
                "status": {"Ok": None},
                "confirmationStatus": "confirmed",
            }
            return {"context": context, "value": [status for _ in params[0]]}
        if method == "getGenesisHash":
            return DEVNET_GENESIS_HASH
        raise LookupError(method)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        rpc = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                request = json.loads(self.rfile.read(length))
                batch = request if isinstance(request, list) else [request]
                replies = [self._one(item, self.path) for item in batch]
                body = json.dumps(replies if isinstance(request, list) else replies[0]).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _one(self, item: dict[str, Any], path: str) -> dict[str, Any]:
                method, params = item.get("method", ""), item.get("params", [])
                with rpc._lock:
                    rpc.calls.append(
                        {"caller": path.strip("/"), "method": method, "params": params}
                    )
                reply: dict[str, Any] = {"jsonrpc": "2.0", "id": item.get("id")}
                try:
                    reply["result"] = rpc.answer(method, params)
                except LookupError:
                    reply["error"] = {"code": -32601, "message": f"Method not found: {method}"}
                return reply

        return Handler
