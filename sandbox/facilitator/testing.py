"""Start a real facilitator process on a free port, for tests and benchmarks.

    from sandbox.facilitator.testing import start_facilitator

    with start_chain(slot_ms=0) as chain:
        with start_facilitator(chain.rpc_url, [fee_payer_keypair], ws_url=chain.ws_url) as fac:
            fac.url   # http://127.0.0.1:PORT

Extra CLI flags go in `args` (e.g. ["--fault", "settle:pending"]). The fee payer keypairs are
written to Solana CLI JSON files in a temporary folder (or `home`).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.processes import ManagedProcess, free_port
from sandbox.protocol import PaymentRequirements
from sandbox.protocol.networks import SOLANA_DEVNET, USDC_DEVNET_MINT

__all__ = ["RunningFacilitator", "devnet_usdc_offer", "start_facilitator", "write_keypair"]


def devnet_usdc_offer(pay_to: Pubkey, fee_payer: Keypair, amount: int) -> PaymentRequirements:
    """The exact-scheme offer tests and benchmarks pay: `amount` atomic devnet USDC to
    `pay_to`, the facilitator's `fee_payer` in extra, a 60 s timeout."""
    return PaymentRequirements(
        scheme="exact",
        network=SOLANA_DEVNET,
        amount=str(amount),
        asset=USDC_DEVNET_MINT,
        pay_to=str(pay_to),
        max_timeout_seconds=60,
        extra={"feePayer": str(fee_payer.pubkey())},
    )


def write_keypair(path: Path, keypair: Keypair) -> Path:
    path.write_text(json.dumps(list(bytes(keypair))))
    path.chmod(0o600)
    return path


@dataclass
class RunningFacilitator:
    url: str
    port: int
    ledger: Path
    process: ManagedProcess

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def stop(self) -> None:
        self.process.stop()


@contextlib.contextmanager
def start_facilitator(
    rpc_url: str,
    fee_payers: Sequence[Keypair],
    args: Sequence[str] = (),
    *,
    ws_url: str | None = None,
    ledger: Path | None = None,
    home: Path | None = None,
    port: int | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[RunningFacilitator]:
    """A facilitator subprocess: healthy (its network learned) on entry, stopped on exit."""
    home = home or Path(tempfile.mkdtemp(prefix="x402-facilitator-"))
    home.mkdir(parents=True, exist_ok=True)
    ledger = ledger or home / "ledger.sqlite3"
    port = port or free_port()
    argv = ["--host", "127.0.0.1", "--port", str(port), "--rpc-url", rpc_url]
    argv += ["--ledger", str(ledger), "--log-level", "warning"]
    if ws_url:
        argv += ["--ws-url", ws_url]
    for i, keypair in enumerate(fee_payers):
        argv += ["--fee-payer-keypair", str(write_keypair(home / f"fee-payer-{i}.json", keypair))]
    url = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        "facilitator",
        "sandbox.facilitator",
        [*argv, *args],
        f"{url}/health",
        home / f"facilitator-{port}.log",
    )
    process.start()
    try:
        process.wait_healthy(timeout=startup_timeout)
        yield RunningFacilitator(url, port, ledger, process)
    finally:
        process.stop()
