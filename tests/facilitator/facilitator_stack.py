"""A real chain and a real facilitator process on free loopback ports, for integration tests."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from facilitator_builders import Parties, body, instructions, requirements, sign
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.chain.testing import RunningChain
from sandbox.processes import ManagedProcess, free_port
from sandbox.protocol.programs import associated_token_address

FUNDED_USDC = 10_000_000  # 10 USDC


def write_keypair(path: Path, keypair: Keypair) -> Path:
    path.write_text(json.dumps(list(bytes(keypair))))
    return path


@dataclass
class RunningFacilitator:
    url: str
    process: ManagedProcess
    fee_payers: list[Keypair]
    ledger: Path
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def post(self, path: str, payload: dict | bytes, **kw) -> httpx.Response:
        if isinstance(payload, bytes):
            return self.client.post(self.url + path, content=payload, **kw)
        return self.client.post(self.url + path, json=payload, **kw)

    def get(self, path: str, **kw) -> httpx.Response:
        return self.client.get(self.url + path, **kw)

    def verify(self, payload: dict) -> dict:
        answer = self.post("/verify", payload)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def settle(self, payload: dict) -> dict:
        answer = self.post("/settle", payload)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def set_faults(self, *faults: dict) -> None:
        answer = self.post("/_sandbox/faults", {"faults": list(faults)})
        assert answer.status_code == 200, answer.text

    def metric(self, name: str, **labels: str) -> float:
        total = 0.0
        for line in self.get("/metrics").text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self) -> None:
        self.client.close()
        self.process.stop()


@contextlib.contextmanager
def start_facilitator(
    chain: RunningChain,
    fee_payers: list[Keypair],
    *extra_args: str,
    ledger: Path | None = None,
    port: int | None = None,
) -> Iterator[RunningFacilitator]:
    home = Path(tempfile.mkdtemp(prefix="x402-facilitator-"))
    ledger = ledger or home / "ledger.sqlite3"
    port = port or free_port()
    args = ["--host", "127.0.0.1", "--port", str(port), "--rpc-url", chain.rpc_url]
    args += ["--ws-url", chain.ws_url, "--ledger", str(ledger), "--log-level", "warning"]
    for i, keypair in enumerate(fee_payers):
        args += ["--fee-payer-keypair", str(write_keypair(home / f"fee-payer-{i}.json", keypair))]
    url = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        "facilitator",
        "sandbox.facilitator",
        [*args, *extra_args],
        f"{url}/health",
        home / "facilitator.log",
    )
    process.start()
    running = RunningFacilitator(url, process, fee_payers, ledger)
    try:
        process.wait_healthy(timeout=60)
        yield running
    finally:
        running.stop()


class Funded:
    """Parties funded on a chain: SOL for fee payer and client, USDC for the client."""

    def __init__(self, chain: RunningChain, parties: Parties | None = None) -> None:
        self.chain = chain
        self.p = parties or Parties()
        chain.rpc("requestAirdrop", str(self.p.fee_payer.pubkey()), 10_000_000_000)
        chain.rpc("requestAirdrop", str(self.p.client.pubkey()), 1_000_000_000)
        chain.rpc("sandbox_mintTo", str(self.p.client.pubkey()), FUNDED_USDC)
        chain.rpc("sandbox_mintTo", str(self.p.pay_to), 0)

    def blockhash(self) -> Hash:
        answer = self.chain.rpc("getLatestBlockhash", {"commitment": "confirmed"})
        return Hash.from_string(answer["value"]["blockhash"])

    def payment(
        self,
        amount: int = 10_000,
        *,
        ixs=None,
        memo_text: str | None = None,
        version: int = 2,
        **extra,
    ) -> dict:
        req = requirements(self.p, amount, **extra)
        ixs = ixs if ixs is not None else instructions(self.p, amount, memo_text)
        return body(sign(self.p, ixs, self.blockhash()), req, version=version)

    def usdc(self, owner: Pubkey) -> int:
        ata = associated_token_address(owner, self.p.mint, self.p.program)
        answer = self.chain.rpc("getTokenAccountBalance", str(ata))
        return int(answer["value"]["amount"])

    def sol(self, owner: Pubkey) -> int:
        return int(self.chain.rpc("getBalance", str(owner))["value"])

    def transaction(self, signature: str) -> dict | None:
        return self.chain.rpc(
            "getTransaction",
            signature,
            {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0},
        )
