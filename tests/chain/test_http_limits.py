"""The chain's HTTP limits hold against a hostile client: bodies refused before they are read
past MAX_BODY, headers over MAX_HEADER_BYTES refused, idle or slow connections closed after the
header timeout while real requests go on."""

from __future__ import annotations

import select
import socket
import time

import httpx
import pytest

from sandbox.chain.http_server import MAX_BODY
from sandbox.chain.testing import start_chain
from sandbox.http_limits import MAX_HEADER_BYTES

MB = 1024 * 1024


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _stream(sock: socket.socket, head: bytes, chunks, deadline: float = 60.0) -> bytes:
    """Send `head` then `chunks` until the server answers (or all is sent); the answer."""
    sock.sendall(head)
    sock.setblocking(False)
    pending = b""
    stop = time.monotonic() + deadline
    chunks = iter(chunks)
    while time.monotonic() < stop:
        readable, writable, _ = select.select([sock], [sock], [], 1.0)
        if readable:
            break
        if writable:
            if not pending:
                pending = next(chunks, b"")
                if not pending:
                    break
            try:
                pending = pending[sock.send(pending) :]
            except (BrokenPipeError, ConnectionResetError):
                break
    sock.setblocking(True)
    sock.settimeout(30)
    answer = b""
    try:
        while data := sock.recv(65536):
            answer += data
    except (ConnectionResetError, TimeoutError):
        pass
    return answer


def _warm(chain) -> int:
    for _ in range(20):
        chain.rpc("getSlot")
    return _rss(chain.pid)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_256_mb_body_is_refused_without_reading_it(fast_chain, chunked):
    before = _warm(fast_chain)
    size = 256 * MB
    piece = b"[" * MB
    if chunked:
        head = b"Transfer-Encoding: chunked\r\n"
        chunks = (b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(size // MB))
    else:
        head = b"Content-Length: %d\r\n" % size
        chunks = (piece for _ in range(size // MB))
    with socket.create_connection((fast_chain.host, fast_chain.port)) as sock:
        answer = _stream(
            sock,
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + head
            + b"\r\n",
            chunks,
        )
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"connection: close" in answer.lower()
    grown = _rss(fast_chain.pid) - before
    # A declared length is refused before any body byte is kept; a chunked body at MAX_BODY.
    allowed = 10 * MB + (MAX_BODY if chunked else 0)
    print(f"RSS grew {grown / MB:.1f} MB")
    assert grown < allowed, f"RSS grew {grown / MB:.1f} MB"
    assert isinstance(fast_chain.rpc("getSlot"), int)


def test_a_body_at_the_limit_is_still_read(fast_chain):
    padding = b" " * (MAX_BODY - 100)
    body = b'{"jsonrpc":"2.0","id":1,"method":"getSlot"}' + padding
    response = httpx.post(
        fast_chain.rpc_url, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200 and isinstance(response.json()["result"], int)


def test_a_1_mb_header_gets_431(fast_chain):
    before = _warm(fast_chain)
    with socket.create_connection((fast_chain.host, fast_chain.port)) as sock:
        answer = _stream(
            sock,
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ",
            [b"a" * MB, b"\r\nContent-Length: 2\r\n\r\n{}"],
        )
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert _rss(fast_chain.pid) - before < 10 * MB
    # Headers just over the limit in a single read are refused too; under it they are fine.
    over = b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * MAX_HEADER_BYTES + b"\r\n\r\n"
    with socket.create_connection((fast_chain.host, fast_chain.port)) as sock:
        assert _stream(sock, over, []).startswith(b"HTTP/1.1 431 ")
    ok = httpx.get(f"{fast_chain.rpc_url}/health", headers={"x-big": "a" * 30_000})
    assert ok.status_code == 200


def test_idle_connections_are_closed_after_the_header_timeout():
    with start_chain(slot_ms=0, header_timeout=0.5) as chain:
        address = (chain.host, chain.port)
        silent = [socket.create_connection(address) for _ in range(300)]
        slow = [socket.create_connection(address) for _ in range(20)]
        for sock in slow:
            sock.sendall(b"GET /health HTTP/1.1\r\nHo")
        kept_alive = [socket.create_connection(address) for _ in range(20)]
        for sock in kept_alive:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        # A real request goes on meanwhile, on a connection of its own.
        assert httpx.post(chain.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "getSlot"})
        everyone = silent + slow + kept_alive
        answers = {sock: b"" for sock in everyone}
        open_ = set(everyone)
        while open_ and time.monotonic() - started < 60:
            readable, _, _ = select.select(list(open_), [], [], 1.0)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                answers[sock] += data
                if not data:
                    open_.discard(sock)
        assert not open_, f"{len(open_)} of {len(everyone)} connections still open"
        assert all(answers[sock] == b"" for sock in silent)
        assert all(answers[sock].startswith(b"HTTP/1.1 408 ") for sock in slow)
        assert all(answers[sock].startswith(b"HTTP/1.1 200 OK") for sock in kept_alive)
        assert time.monotonic() - started >= 0.4
        for sock in everyone:
            sock.close()
        assert isinstance(chain.rpc("getSlot"), int)
