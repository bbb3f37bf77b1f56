"""The JSON-RPC HTTP server: a bare asyncio Protocol over httptools' parser.

A framework (even a bare ASGI app under uvicorn) costs more per request than executing a
payment on LiteSVM; this server does only what a JSON-RPC endpoint needs: POST any path with a
JSON body, GET /health, keep-alive, CORS preflight. Responses are written from the parser
callback, so a request costs one parse, one dispatch and one write.

Whoever connects, it keeps limits: request line and headers at most MAX_HEADER_BYTES (431),
complete within the header timeout from the connection or the previous answer (else closed; 408
when some bytes came), a body at most MAX_BODY, refused (413) from its Content-Length or as soon
as a chunked body passes it, never buffered further. A refusal closes the connection after a
short linger, so the client reads the answer instead of a reset. Cheat codes are judged per
request by the AdminGuard (content type, Origin, Host, token, caller's address).
"""

from __future__ import annotations

import asyncio
import logging

import httptools

from sandbox.admin_guard import AdminGuard
from sandbox.http_limits import HEADER_TIMEOUT, MAX_HEADER_BYTES

from .dispatcher import Dispatcher

__all__ = ["MAX_BODY", "RpcHttpProtocol", "RpcHttpServer", "serve_http"]

log = logging.getLogger("sandbox.chain.http")
# A batch of 1,000 transactions is under 2 MiB; an account of several MB fits setAccount.
MAX_BODY = 8 * 1024 * 1024
LINGER_S = 2.0  # after a refusal, how long unread input is drained before closing

_JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
_CORS = (
    b"Access-Control-Allow-Origin: *\r\n"
    b"Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n"
    b"Access-Control-Allow-Headers: *\r\n"
)
# Headers the admin guard and the body limit read; the others are only counted.
_CAPTURED = frozenset(
    {b"content-type", b"content-length", b"origin", b"host", b"authorization", b"x-admin-token"}
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
_STARTING = _plain(b"503 Service Unavailable", b"starting")
_NOT_FOUND = _plain(b"404 Not Found", b"Not found: POST JSON-RPC to / or GET /health")
_NOT_ALLOWED = _plain(
    b"405 Method Not Allowed", b"Used HTTP Method is not allowed. POST or OPTIONS is required"
)
_NO_CONTENT = b"HTTP/1.1 204 No Content\r\n" + _CORS + b"\r\n"
_EMPTY_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
_TOO_LARGE = _plain(
    b"413 Payload Too Large", f"request body over {MAX_BODY} bytes".encode(), close=True
)
_HEADERS_TOO_LARGE = _plain(
    b"431 Request Header Fields Too Large",
    f"request line and headers must fit in {MAX_HEADER_BYTES} bytes".encode(),
    close=True,
)


class _Refused(Exception):
    """Raised from a parser callback after a refusal was written: stop parsing this input."""


class RpcHttpProtocol(asyncio.Protocol):
    __slots__ = (
        "_body",
        "_body_size",
        "_closing",
        "_head_bytes",
        "_head_since",
        "_head_size",
        "_headers",
        "_in_head",
        "_parser",
        "_peer",
        "_pending",
        "_refused",
        "_server",
        "_transport",
        "_url",
    )

    def __init__(self, server: RpcHttpServer) -> None:
        self._server = server
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body: list[bytes] = []
        self._body_size = 0
        self._headers: dict[bytes, bytes] = {}
        self._closing = False
        self._refused = False
        self._in_head = True  # between requests, or inside a request line and headers
        self._head_bytes = 0  # bytes read while the head is incomplete (bounds buffering)
        self._head_size = 0  # the request line and headers, as parsed
        self._head_since = 0.0
        self._pending = 0  # answers held back by the latency fault
        self._peer: str | None = None

    # asyncio callbacks
    def connection_made(self, transport) -> None:
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._peer = peer[0] if isinstance(peer, tuple) and peer else None
        self._head_since = self._server.loop.time()
        self._server.connections.add(self)

    def connection_lost(self, exc) -> None:
        self._transport = None
        self._server.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering: drain and drop
        if self._in_head:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(_plain(b"400 Bad Request", b"upgrade not supported here", close=True))
        except httptools.HttpParserError as exc:
            if not self._refused:
                self._refuse(_plain(b"400 Bad Request", f"bad HTTP request: {exc}".encode(), True))
        if self._in_head and self._head_bytes > MAX_HEADER_BYTES and not self._refused:
            self._refuse(_HEADERS_TOO_LARGE)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._body = []
        self._body_size = 0
        self._headers = {}
        self._head_size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._head_size += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4
        name = name.lower()
        if name in _CAPTURED:
            self._headers[name] = value

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._head_size > MAX_HEADER_BYTES:  # all of it arrived in one read
            self._refuse(_HEADERS_TOO_LARGE)
            raise _Refused
        self._head_bytes = 0
        declared = self._headers.get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > MAX_BODY
            except ValueError:
                too_large = False  # the parser refuses a malformed length itself
            if too_large:
                self._refuse(_TOO_LARGE)
                raise _Refused

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > MAX_BODY:
            self._body = []
            self._refuse(_TOO_LARGE)
            raise _Refused
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._in_head = True  # the next request's headers are timed from the answer
        self._head_bytes = 0
        self._head_since = self._server.loop.time()
        parser = self._parser
        method = parser.get_method()
        if not parser.should_keep_alive():
            self._closing = True
        if method == b"POST":
            self._post()
        elif method == b"GET":
            path = self._url.split(b"?", 1)[0]
            if path == b"/health":
                self._reply(_HEALTH if self._server.ready else _STARTING)
            else:
                self._reply(_NOT_FOUND)
        elif method == b"OPTIONS":
            self._reply(_NO_CONTENT)
        else:
            self._reply(_NOT_ALLOWED)

    def _post(self) -> None:
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self._body = []
        server = self._server
        refusal = server.guard.check(self._headers, self._peer, has_body=True)
        answer = server.dispatcher.handle(body, refusal)
        if answer is None:
            response = _EMPTY_OK
        else:
            response = _JSON_HEAD + str(len(answer)).encode() + b"\r\n\r\n" + answer
        node = server.dispatcher.node
        delay = node.faults.latency_ms
        if delay:
            self._pending += 1
            server.loop.call_later(delay / 1000.0, self._reply_when_durable, response)
        elif node.journal is not None and node.journal.behind:
            # Group commit: no answer leaves before what it may report is on disk.
            self._pending += 1
            node.journal.after_durable(lambda: self._reply_later(response))
        else:
            self._reply(response)

    def _reply_when_durable(self, response: bytes) -> None:
        """The latency fault's delay is over: the answer still waits for the journal (a slow
        disk can outlast the delay)."""
        journal = self._server.dispatcher.node.journal
        if journal is not None and journal.behind:
            journal.after_durable(lambda: self._reply_later(response))
        else:
            self._reply_later(response)

    def _reply_later(self, response: bytes) -> None:
        self._pending -= 1
        self._head_since = self._server.loop.time()
        self._reply(response)

    def _reply(self, response: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing() or self._refused:
            return  # refused: its end of stream is written, so a held answer is dropped
        transport.write(response)
        if self._closing:
            transport.close()

    # limits
    def _refuse(self, response: bytes) -> None:
        """Answer, stop reading requests, and close after draining the client's input a while."""
        self._refused = True
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(response)
        if transport.can_write_eof():
            transport.write_eof()  # the client sees the answer and an end of stream
            self._server.loop.call_later(LINGER_S, transport.close)
        else:  # pragma: no cover - TCP transports can
            transport.close()

    def head_overdue(self, now: float, timeout: float) -> bool:
        return (
            self._in_head
            and not self._refused
            and not self._pending
            and now - self._head_since > timeout
        )

    def head_timed_out(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._head_bytes:
            self._refuse(
                _plain(b"408 Request Timeout", b"request headers not complete in time", True)
            )
        else:
            transport.close()  # connected (or kept alive) and silent


class RpcHttpServer:
    def __init__(
        self,
        dispatcher: Dispatcher,
        guard: AdminGuard,
        header_timeout: float = HEADER_TIMEOUT,
    ) -> None:
        self.dispatcher = dispatcher
        self.guard = guard
        self.header_timeout = header_timeout
        self.loop = asyncio.get_running_loop()
        self.connections: set[RpcHttpProtocol] = set()
        self.ready = False  # /health answers 503 until the whole chain (PubSub too) listens
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweep_every = min(max(header_timeout / 4, 0.05), 1.0)
        self._schedule_sweep()

    def _schedule_sweep(self) -> None:
        self._sweeper = self.loop.call_later(self._sweep_every, self._sweep)

    def _sweep(self) -> None:
        """Close connections whose headers did not complete within the header timeout."""
        now, timeout = self.loop.time(), self.header_timeout
        for conn in [c for c in self.connections if c.head_overdue(now, timeout)]:
            conn.head_timed_out()
        self._schedule_sweep()

    def close(self) -> None:
        """Stop the sweeper and close every connection: at shutdown nothing more is dispatched
        (the journal closes next, and a transaction sent after that could not be durable)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        for conn in list(self.connections):
            transport = conn._transport
            if transport is not None:
                transport.close()


async def serve_http(
    dispatcher: Dispatcher,
    host: str,
    port: int,
    guard: AdminGuard | None = None,
    header_timeout: float = HEADER_TIMEOUT,
) -> tuple[asyncio.Server, RpcHttpServer]:
    """Listen on host:port; the RpcHttpServer is not `ready` until the caller says so."""
    server = RpcHttpServer(dispatcher, guard or AdminGuard(port, host), header_timeout)
    loop = asyncio.get_running_loop()
    listening = await loop.create_server(
        lambda: RpcHttpProtocol(server), host, port, reuse_address=True, backlog=2048
    )
    return listening, server
