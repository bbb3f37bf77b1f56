"""A real chain and a real facilitator process on free loopback ports, for integration tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from facilitator_builders import Parties, body, instructions, requirements, sign
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.chain.testing import RunningChain
from sandbox.facilitator.testing import start_facilitator as _start
from sandbox.processes import ManagedProcess
from sandbox.protocol.programs import associated_token_address

FUNDED_USDC = 10_000_000  # 10 USDC


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
    ws_url: str | None = None,
) -> Iterator[RunningFacilitator]:
    """`ws_url` defaults to the chain's PubSub; point it at a closed port to test polling."""
    ws_url = ws_url or chain.ws_url
    with _start(chain.rpc_url, fee_payers, extra_args, ws_url=ws_url, ledger=ledger) as fac:
        running = RunningFacilitator(fac.url, fac.process, fee_payers, fac.ledger)
        try:
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

    def usdc(self, owner: Pubkey, commitment: str = "finalized") -> int:
        ata = associated_token_address(owner, self.p.mint, self.p.program)
        answer = self.chain.rpc("getTokenAccountBalance", str(ata), {"commitment": commitment})
        return int(answer["value"]["amount"])

    def sol(self, owner: Pubkey) -> int:
        return int(self.chain.rpc("getBalance", str(owner))["value"])

    def transaction(self, signature: str) -> dict | None:
        return self.chain.rpc(
            "getTransaction",
            signature,
            {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0},
        )
