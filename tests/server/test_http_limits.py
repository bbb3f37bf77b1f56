"""The paid server's HTTP limits, on a real process: slow and huge headers cannot hold it."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from solders.keypair import Keypair

from sandbox.processes import ManagedProcess, free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    args = ["--port", str(port), "--pay-to", str(Keypair().pubkey()), "--header-timeout", "1"]
    args += ["--facilitator-url", f"http://127.0.0.1:{free_port()}"]
    process = ManagedProcess(
        "server",
        "sandbox.server",
        args,
        f"http://127.0.0.1:{port}/health",
        tmp_path_factory.mktemp("server") / "server.log",
    )
    process.start().wait_healthy(timeout=30)
    yield f"http://127.0.0.1:{port}", port, process.pid
    process.stop()


def wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def closed_by_peer(sock: socket.socket) -> bool:
    """True once the server closed it (a 408 it wrote first is drained by earlier polls)."""
    try:
        return sock.recv(65536, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_idle_connections_are_closed_after_the_header_timeout(server):
    url, port, _pid = server
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes its headers
    try:
        # A real request gets through while they hang.
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
        assert wait_until(lambda: all(closed_by_peer(s) for s in [*idle, half]))
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    finally:
        for sock in [*idle, half]:
            sock.close()


def test_a_slow_header_gets_408(server):
    _, port, _pid = server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sock.settimeout(20)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408")


def test_a_huge_header_gets_431_and_memory_stays_put(server):
    url, port, pid = server
    before = rss_kb(pid)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(20)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-PAYMENT: ")
        answer = b""
        try:
            for _ in range(512):  # up to 32 MB, stopping once the server has answered
                sock.sendall(b"A" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert rss_kb(pid) - before < 10 * 1024
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200
