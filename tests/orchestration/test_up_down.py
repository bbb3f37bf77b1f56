"""`x402-sandbox up`, `pay`, `status`, `down`, `up` again, `down`: as a user runs them."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from make_commands import make_runs
from solders.pubkey import Pubkey

from sandbox.orchestration.rpc import ChainRpc
from sandbox.orchestration.stack import StackPaths, read_stack
from sandbox.orchestration.summary import next_steps
from sandbox.orchestration.wallets import read_wallets
from sandbox.payer.client import read_challenge
from sandbox.payer.keys import load_keypair
from sandbox.payer.sync_client import X402ClientSync
from sandbox.processes import free_port, free_port_pair, pid_alive, process_start_time
from sandbox.protocol import PYUSD_DEVNET_MINT, associated_token_address
from sandbox.protocol.programs import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID

pytestmark = pytest.mark.slow


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 90):
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def ports() -> list[str]:
    return [
        "--rpc-port", str(free_port_pair()),
        "--facilitator-port", str(free_port()),
        "--server-port", str(free_port()), "--dashboard-port", str(free_port()),
    ]  # fmt: skip


def usdc_of(info: dict, name: str, mint: str | None = None) -> int:
    """A wallet's USDC (or `mint`'s stablecoin, Token-2022's PYUSD) as the chain reports it now."""
    wallet = next(w for w in info["wallets"] if w["name"] == name)
    program = TOKEN_2022_PROGRAM_ID if mint == PYUSD_DEVNET_MINT else TOKEN_PROGRAM_ID
    ata = associated_token_address(
        Pubkey.from_string(wallet["address"]),
        Pubkey.from_string(mint or info["usdc_mint"]),
        program,
    )
    rpc = ChainRpc(info["rpc_url"])
    try:
        found = read_wallets(rpc, {name: (wallet["address"], wallet["keypair_file"], str(ata))})
    finally:
        rpc.close()
    return found[0].usdc


def test_up_pay_status_down_up_keeps_balances(tmp_path: Path, ports: list[str]) -> None:
    home = tmp_path / "sandbox"
    up = cli("up", "--home", str(home), *ports, "--payers", "2", "--slot-ms", "0", "--json")
    assert up.returncode == 0, up.stderr + up.stdout
    info = json.loads(up.stdout)
    paid_url = f"{info['server_url']}/api/premium-content"
    try:
        assert info["ready_seconds"] < 5, f"took {info['ready_seconds']}s to be ready"
        assert info["network"] == "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
        assert info["usdc_mint"] == "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"
        names = {w["name"] for w in info["wallets"]}
        assert names == {"merchant", "fee-payer-0", "payer-0", "payer-1"}
        payer = next(w for w in info["wallets"] if w["name"] == "payer-0")
        assert payer["usdc"] == 100_000_000 and payer["sol"] == 1_000_000_000
        # as much PYUSD (Token-2022), and the merchant's PYUSD account, for the PYUSD routes
        assert usdc_of(info, "payer-0", PYUSD_DEVNET_MINT) == 100_000_000
        assert usdc_of(info, "merchant", PYUSD_DEVNET_MINT) == 0
        for key in (home / "keys").iterdir():
            assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
            assert len(json.loads(key.read_text())) == 64
        env_text = (home / "stack.env").read_text()
        assert f"export X402_SANDBOX_SERVER_URL={info['server_url']}" in env_text
        assert f"export X402_SANDBOX_DASHBOARD_URL={info['dashboard_url']}" in env_text
        assert httpx.get(f"{info['dashboard_url']}/health", timeout=10).json()["status"] == "ok"
        assert set(info["pids"]) == {"chain", "facilitator", "server", "dashboard"}
        secret_file = home / "server" / "memo-secret"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert secret_file.read_text().strip() not in json.dumps(info)  # not in argv either
        for name, pid in info["pids"].items():  # what `down` checks before signalling a pid
            assert info["processes"][name]["start_time"] == process_start_time(pid)
            assert f"sandbox.{name}" in info["processes"][name]["cmdline"]

        again = cli("up", "--home", str(home), *ports)
        assert again.returncode != 0 and "already running" in again.stderr

        # Paid with the command `up` prints for this stack (its own home and ports).
        pay_command = next(c for c, _ in next_steps(read_stack(StackPaths(home))) if " pay" in c)
        paid = cli(*make_runs(pay_command))
        assert paid.returncode == 0, paid.stdout + paid.stderr

        status = cli("status", "--home", str(home), "--json")
        assert status.returncode == 0, status.stderr
        state = json.loads(status.stdout)
        assert all(c["healthy"] for c in state["components"].values()), state
        payer_now = next(w for w in state["wallets"] if w["name"] == "payer-0")
        assert payer_now["usdc"] == 100_000_000 - 10_000
        settled = [s for s in state["settlements"] if s["payer"] == payer["address"]]
        assert len(settled) == 1 and settled[0]["success"], state["settlements"]
        assert settled[0]["amount"] == "10000"
        first_signature = settled[0]["transaction"]
        shown = cli("status", "--home", str(home), env={"COLUMNS": "300"})
        assert "Recent settlements" in shown.stdout and first_signature in shown.stdout

        # A payment whose header we keep, to send again after down/up.
        payer1 = next(w for w in info["wallets"] if w["name"] == "payer-1")
        keypair = load_keypair(payer1["keypair_file"])
        # No payment identifier: its resend below is a bare replay, for the ledger to refuse
        # (with one the server would answer its kept answer; tests/server/test_payment_identifier*)
        with X402ClientSync(keypair, rpc_url=info["rpc_url"], payment_ids=False) as client:
            kept = client.get(paid_url)
        assert kept.status == 200 and kept.receipt and kept.receipt.success, kept.text
        kept_headers = kept.payment.headers
    finally:
        down = cli("down", "--home", str(home))
    assert down.returncode == 0, down.stderr
    for pid in info["pids"].values():
        assert not pid_alive(pid), f"pid {pid} still running after down"

    # State survives down/up: same wallets, the paid amounts still gone, the ledger kept.
    up2 = cli("up", "--home", str(home), *ports, "--payers", "2", "--slot-ms", "0", "--json")
    assert up2.returncode == 0, up2.stderr + up2.stdout
    info2 = json.loads(up2.stdout)
    try:
        payer2 = next(w for w in info2["wallets"] if w["name"] == "payer-0")
        assert payer2["address"] == payer["address"]
        assert payer2["usdc"] == 100_000_000 - 10_000

        # The settled payment sent again: the restarted facilitator's ledger refuses it.
        replay = httpx.get(paid_url, headers=kept_headers, timeout=30)
        assert replay.status_code == 402, replay.text
        assert read_challenge(replay.headers, replay.content).error == "duplicate_settlement"

        status2 = json.loads(cli("status", "--home", str(home), "--json").stdout)
        balances = {w["name"]: w["usdc"] for w in status2["wallets"]}
        assert balances["merchant"] == 2 * 10_000  # payer-0 once, payer-1 once: not twice
        assert usdc_of(info2, "payer-1") == 100_000_000 - 10_000  # charged once
        # Recent settlements outlive the restart (read from the ledger), the replay not among them.
        signatures = [s["transaction"] for s in status2["settlements"]]
        assert signatures == [first_signature, kept.receipt.transaction], status2["settlements"]
    finally:
        assert cli("down", "--home", str(home), "--purge").returncode == 0
    for pid in info2["pids"].values():
        assert not pid_alive(pid)
    assert not (home / "keys").exists()


def test_up_names_a_port_taken_by_another_program(tmp_path: Path, ports: list[str]) -> None:
    server_port = int(ports[ports.index("--server-port") + 1])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", server_port))
        taken.listen()
        result = cli("up", "--home", str(tmp_path / "s"), *ports)
    assert result.returncode == 1
    assert f"port {server_port} (server) is already in use" in result.stderr


def test_status_without_a_stack_says_what_to_do(tmp_path: Path) -> None:
    result = cli("status", "--home", str(tmp_path / "nothing"))
    assert result.returncode == 1
    assert "make up" in result.stderr
