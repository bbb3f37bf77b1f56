"""The stack the fuzzers hit: a real chain, facilitator and paid server, each its own process on
a free loopback port, started as the integration tests start them; and valid payments, built
and signed by sandbox.payer for the server's own 402s, to mutate.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from solders.keypair import Keypair

from sandbox.chain.testing import RunningChain, start_chain
from sandbox.facilitator.testing import start_facilitator
from sandbox.payer import Payment, X402ClientSync, read_challenge
from sandbox.payer.client import Challenge
from sandbox.processes import ManagedProcess, free_port
from sandbox.protocol import PaymentRequired

# Blockhashes live 60 s: payments to mutate are rebuilt well before theirs expires.
FRESH_SECONDS = 20.0
ROUTES = ("/api/weather", "/api/upfront", "/api/inference?tokens=7")


@dataclass
class FuzzStack:
    chain: RunningChain
    facilitator_url: str
    server_url: str
    payer: Keypair
    _client: X402ClientSync | None = None
    _built: dict[tuple[str, int], tuple[float, Payment]] = field(default_factory=dict)

    def payment(self, route: str, version: int) -> Payment:
        """A valid, signed payment for `route` (v1 or v2), at most FRESH_SECONDS old."""
        key = (route, version)
        cached = self._built.get(key)
        if cached is not None and time.monotonic() - cached[0] < FRESH_SECONDS:
            return cached[1]
        challenge = _challenge(self.server_url + route, version)
        if isinstance(challenge, PaymentRequired):
            payment = self._payer().prepare(challenge.accepts[0], challenge.resource)
        else:
            payment = self._payer().prepare(challenge.accepts[0])
        self._built[key] = (time.monotonic(), payment)
        return payment

    def facilitator_body(self, version: int) -> dict[str, Any]:
        return self.payment(ROUTES[0], version).facilitator_body()

    def _payer(self) -> X402ClientSync:
        if self._client is None:
            self._client = X402ClientSync(self.payer, rpc_url=self.chain.rpc_url)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _challenge(url: str, version: int) -> Challenge:
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 402, (answer.status_code, answer.text)
    return read_challenge(answer.headers, answer.content, version)


def _wait_for_402(url: str, timeout: float = 60.0) -> None:
    """Paid routes answer 503 until the server has learned the facilitator's fee payer."""
    deadline = time.monotonic() + timeout
    while True:
        status = httpx.get(url, timeout=10).status_code
        if status == 402:
            return
        assert time.monotonic() < deadline, f"{url} still answers {status}"
        time.sleep(0.05)


@contextlib.contextmanager
def fuzz_stack(home: Path) -> Iterator[FuzzStack]:
    with contextlib.ExitStack() as stack:
        chain = stack.enter_context(start_chain(slot_ms=0, log_dir=home))
        fee_payer = Keypair()
        chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 100_000_000_000)
        merchant = str(Keypair().pubkey())
        chain.rpc("sandbox_mintTo", merchant, 0)
        payer = Keypair()
        chain.rpc("requestAirdrop", str(payer.pubkey()), 1_000_000_000)
        chain.rpc("sandbox_mintTo", str(payer.pubkey()), 1_000_000_000)
        facilitator = stack.enter_context(
            start_facilitator(
                chain.rpc_url,
                [fee_payer],
                ["--confirm-timeout", "2"],
                ws_url=chain.ws_url,
                home=home / "facilitator",
            )
        )
        port = free_port()
        server_url = f"http://127.0.0.1:{port}"
        server = ManagedProcess(
            "server",
            "sandbox.server",
            [
                "--port", str(port), "--facilitator-url", facilitator.url, "--pay-to", merchant,
                "--rpc-url", chain.rpc_url, "--facilitator-timeout", "10",
            ],
            f"{server_url}/health",
            home / "server.log",
        ).start()  # fmt: skip
        stack.callback(server.stop)
        server.wait_healthy(60)
        _wait_for_402(server_url + ROUTES[0])
        running = FuzzStack(chain, facilitator.url, server_url, payer)
        stack.callback(running.close)
        yield running
