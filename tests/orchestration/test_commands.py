"""`fund`, `logs`, and a component that dies during `up`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from solders.keypair import Keypair

from sandbox.processes import free_port, free_port_pair

pytestmark = pytest.mark.slow


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_fund_gives_sol_and_usdc_read_back_from_chain(x402_stack, x402_rpc) -> None:
    wallet = str(Keypair().pubkey())
    result = cli("fund", wallet, "--home", x402_stack.home, "--usdc", "2.5", "--sol", "0.5")
    assert result.returncode == 0, result.stderr
    assert x402_rpc.call("getBalance", wallet)["value"] == 500_000_000
    accounts = x402_rpc.call(
        "getTokenAccountsByOwner",
        wallet,
        {"mint": x402_stack.usdc_mint},
        {"encoding": "jsonParsed"},
    )["value"]
    assert accounts[0]["account"]["data"]["parsed"]["info"]["tokenAmount"]["amount"] == "2500000"


def test_fund_names_a_bad_wallet(x402_stack) -> None:
    result = cli("fund", "not-a-wallet", "--home", x402_stack.home)
    assert result.returncode == 1
    assert "WALLET 'not-a-wallet' is not a base58 Solana address" in result.stderr


def test_logs_show_each_component(x402_stack) -> None:
    result = cli("logs", "--home", x402_stack.home, "-n", "5")
    assert result.returncode == 0, result.stderr
    for name in ("chain.log", "facilitator.log", "server.log"):
        assert name in result.stdout
    unknown = cli("logs", "database", "--home", x402_stack.home)
    assert unknown.returncode == 1 and "unknown component 'database'" in unknown.stderr


def test_a_component_dying_at_startup_is_shown_and_the_rest_stopped(tmp_path: Path) -> None:
    home = tmp_path / "broken"
    result = cli(
        "up", "--home", str(home),
        "--rpc-port", str(free_port_pair()),
        "--facilitator-port", str(free_port()),
        "--server-port", str(free_port()), "--dashboard-port", "0",
        "--payers", "1",
        "--server-arg=--facilitator-timeout=not-a-number",
    )  # fmt: skip
    assert result.returncode == 1
    assert "server exited with code" in result.stderr
    assert "facilitator-timeout" in result.stderr  # the server's own complaint, from its log
    # Nothing is left running: stack.json was never written, and no pid in the logs lives.
    assert not (home / "stack.json").exists()
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(home) not in ps
    assert (home / "logs" / "server.log").exists()  # kept for the user to read


def test_up_with_chain_faults_funds_first_then_switches_them_on(tmp_path: Path) -> None:
    # Funding through a chain that fails half its RPC calls used to abort `up` with a traceback.
    home = tmp_path / "faulty"
    rpc_port = free_port_pair()
    result = cli(
        "up", "--home", str(home), "--rpc-port", str(rpc_port),
        "--facilitator-port", str(free_port()), "--server-port", str(free_port()),
        "--dashboard-port", "0",
        "--slot-ms", "0", "--payers", "2", "--chain-fault-error-rate", "0.5", "--json",
    )  # fmt: skip
    try:
        assert result.returncode == 0, result.stderr
        wallets = {w["name"]: w for w in json.loads(result.stdout)["wallets"]}
        assert wallets["payer-1"]["usdc"] == 100_000_000
        faults = httpx.post(
            f"http://127.0.0.1:{rpc_port}",
            json={"jsonrpc": "2.0", "id": 1, "method": "sandbox_getFaults", "params": []},
            timeout=10,
        ).json()["result"]
        assert faults["errorRate"] == 0.5
    finally:
        cli("down", "--home", str(home))
