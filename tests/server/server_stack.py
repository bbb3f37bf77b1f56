"""Chain + facilitator + paid server as real processes on loopback ports, for the integration tests.

One stack per test module; tests reset facilitator and chain faults they set.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.jsonrpc import JsonRpcClient
from sandbox.processes import ManagedProcess, free_port, free_port_pair
from sandbox.protocol import USDC_DEVNET_MINT, associated_token_address


class Rpc(JsonRpcClient):
    """The shared client (sandbox/jsonrpc.py; its RpcError is a RuntimeError) and a USDC read."""

    def __init__(self, url: str) -> None:
        super().__init__(url, timeout=30)

    def usdc(self, owner: str) -> int:
        ata = associated_token_address(
            Pubkey.from_string(owner), Pubkey.from_string(USDC_DEVNET_MINT)
        )
        return int(self.call("getTokenAccountBalance", str(ata))["value"]["amount"])


def write_keypair(path: Path, keypair: Keypair) -> Path:
    path.write_text(json.dumps(list(bytes(keypair))))
    path.chmod(0o600)
    return path


@dataclass
class PaidStack:
    rpc: Rpc
    rpc_url: str
    facilitator_url: str
    server_url: str
    merchant: str
    fee_payer: Keypair
    processes: list[ManagedProcess] = field(default_factory=list)
    home: Path | None = None

    def new_payer(self, usdc: int = 10_000_000) -> Keypair:
        payer = Keypair()
        self.rpc.call("sandbox_mintTo", str(payer.pubkey()), usdc)
        return payer

    def faults(self, *faults: dict) -> None:
        """Replace the facilitator's faults (none: back to normal)."""
        answer = httpx.post(
            f"{self.facilitator_url}/_sandbox/faults", json={"faults": list(faults)}, timeout=10
        )
        answer.raise_for_status()

    def start_server(self, name: str, *extra: str) -> tuple[str, ManagedProcess]:
        """Another paid server process on the same facilitator (other flags)."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = ManagedProcess(
            name,
            "sandbox.server",
            ["--port", str(port), "--pay-to", self.merchant, *extra],
            f"{url}/health",
            self.home / f"{name}.log",
        ).start()
        self.processes.append(process)
        process.wait_healthy(60)
        return url, process


def wait_for_first_402(server_url: str, attempts: int = 500) -> httpx.Response:
    """Paid routes answer 503 until the server has learned the fee payer: the first 402 (or
    the last answer, when it never came)."""
    for _ in range(attempts):
        answer = httpx.get(f"{server_url}/api/weather", timeout=10)
        if answer.status_code == 402:
            break
        time.sleep(0.02)
    return answer


def _start_chain(home: Path, stack: contextlib.ExitStack, slot_ms: int) -> str:
    try:
        from sandbox.chain.testing import start_chain
    except ImportError:  # not there yet: the same thing by hand
        start_chain = None
    if start_chain is not None:
        chain = stack.enter_context(start_chain(slot_ms=slot_ms))
        return chain.rpc_url
    port = free_port_pair()
    url = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        "chain",
        "sandbox.chain",
        ["--port", str(port), "--slot-ms", str(slot_ms), "--fresh"],
        f"{url}/health",
        home / "chain.log",
    ).start()
    stack.callback(process.stop)
    process.wait_healthy(60)
    return url


@contextlib.contextmanager
def paid_stack(home: Path, slot_ms: int = 0, server_args: tuple[str, ...] = ()):
    with contextlib.ExitStack() as stack:
        rpc_url = _start_chain(home, stack, slot_ms)
        rpc = Rpc(rpc_url)
        stack.callback(rpc.close)
        fee_payer = Keypair()
        rpc.call("requestAirdrop", str(fee_payer.pubkey()), 100_000_000_000)
        merchant = str(Keypair().pubkey())
        rpc.call("sandbox_mintTo", merchant, 0)

        facilitator_port = free_port()
        facilitator_url = f"http://127.0.0.1:{facilitator_port}"
        facilitator = ManagedProcess(
            "facilitator",
            "sandbox.facilitator",
            [
                "--port", str(facilitator_port), "--rpc-url", rpc_url,
                "--fee-payer-keypair", str(write_keypair(home / "fee-payer.json", fee_payer)),
                "--ledger", str(home / "ledger.sqlite3"), "--confirm-timeout", "1",
                "--log-level", "warning",
            ],
            f"{facilitator_url}/health",
            home / "facilitator.log",
        ).start()  # fmt: skip
        stack.callback(facilitator.stop)
        server_port = free_port()
        server_url = f"http://127.0.0.1:{server_port}"
        server = ManagedProcess(
            "server",
            "sandbox.server",
            [
                "--port", str(server_port), "--facilitator-url", facilitator_url,
                "--pay-to", merchant, "--facilitator-timeout", "3", *server_args,
            ],
            f"{server_url}/health",
            home / "server.log",
        ).start()  # fmt: skip
        stack.callback(server.stop)
        facilitator.wait_healthy(60)
        server.wait_healthy(60)
        paid = PaidStack(rpc, rpc_url, facilitator_url, server_url, merchant, fee_payer, [], home)
        stack.callback(lambda: [p.stop() for p in paid.processes])
        wait_for_first_402(server_url)
        yield paid
