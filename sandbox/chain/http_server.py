"""The JSON-RPC HTTP server: a bare asyncio Protocol over httptools' parser.

A framework (even a bare ASGI app under uvicorn) costs more per request than executing a
payment on LiteSVM; this server does only what a JSON-RPC endpoint needs: POST any path with a
JSON body, GET /health, keep-alive, CORS preflight. Responses are written from the parser
callback, so a request costs one parse, one dispatch and one write.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

import httptools

from .dispatcher import Dispatcher

__all__ = ["RpcHttpProtocol", "serve_http"]

log = logging.getLogger("sandbox.chain.http")
MAX_BODY = 50 * 1024 * 1024

_JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
_CORS = (
    b"Access-Control-Allow-Origin: *\r\n"
    b"Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n"
    b"Access-Control-Allow-Headers: *\r\n"
)


def _plain(status: bytes, body: bytes, close: bool = False) -> bytes:
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n"
        + (b"Connection: close\r\n" if close else b"")
        + _CORS
        + b"\r\n"
        + body
    )


_HEALTH = _plain(b"200 OK", b"ok")
_NOT_FOUND = _plain(b"404 Not Found", b"Not found: POST JSON-RPC to / or GET /health")
_NOT_ALLOWED = _plain(
    b"405 Method Not Allowed", b"Used HTTP Method is not allowed. POST or OPTIONS is required"
)
_NO_CONTENT = b"HTTP/1.1 204 No Content\r\n" + _CORS + b"\r\n"
_EMPTY_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class RpcHttpProtocol(asyncio.Protocol):
    __slots__ = ("_auth", "_body", "_closing", "_parser", "_server", "_transport", "_url")

    def __init__(self, server: RpcHttpServer) -> None:
        self._server = server
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body: list[bytes] = []
        self._auth: bytes | None = None
        self._closing = False

    # asyncio callbacks
    def connection_made(self, transport) -> None:
        self._transport = transport

    def connection_lost(self, exc) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reply(_plain(b"400 Bad Request", b"upgrade not supported here", close=True))
        except httptools.HttpParserError as exc:
            self._reply(_plain(b"400 Bad Request", f"bad HTTP request: {exc}".encode(), True))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._body = []
        self._auth = None

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) == 13 and name.lower() == b"authorization":
            self._auth = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        parser = self._parser
        method = parser.get_method()
        keep_alive = parser.should_keep_alive()
        if not keep_alive:
            self._closing = True
        if method == b"POST":
            body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
            if len(body) > MAX_BODY:
                self._reply(_plain(b"413 Payload Too Large", b"request body too large", True))
                return
            server = self._server
            answer = server.dispatcher.handle(body, server.authorized(self._auth))
            if answer is None:
                response = _EMPTY_OK
            else:
                response = _JSON_HEAD + str(len(answer)).encode() + b"\r\n\r\n" + answer
            delay = server.dispatcher.node.faults.latency_ms
            if delay:
                asyncio.get_running_loop().call_later(delay / 1000.0, self._reply, response)
            else:
                self._reply(response)
        elif method == b"GET":
            path = self._url.split(b"?", 1)[0]
            self._reply(_HEALTH if path == b"/health" else _NOT_FOUND)
        elif method == b"OPTIONS":
            self._reply(_NO_CONTENT)
        else:
            self._reply(_NOT_ALLOWED)

    def _reply(self, response: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(response)
        if self._closing:
            transport.close()


class RpcHttpServer:
    def __init__(self, dispatcher: Dispatcher, admin_token: str | None) -> None:
        self.dispatcher = dispatcher
        self._expected = f"Bearer {admin_token}".encode() if admin_token else None

    def authorized(self, header: bytes | None) -> bool:
        if self._expected is None:
            return True
        return header is not None and hmac.compare_digest(header, self._expected)


async def serve_http(
    dispatcher: Dispatcher, host: str, port: int, admin_token: str | None = None
) -> asyncio.Server:
    server = RpcHttpServer(dispatcher, admin_token)
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: RpcHttpProtocol(server), host, port, reuse_address=True, backlog=2048
    )
