"""One admin token end to end: every command of ours works on a stack that requires it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from solders.keypair import Keypair

from sandbox.orchestration.home import StackPaths, read_admin_token
from sandbox.processes import free_port, free_port_pair

pytestmark = pytest.mark.slow


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "X402_SANDBOX_ADMIN_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**env, "COLUMNS": "200"},
    )


def ports() -> list[str]:
    return [
        "--rpc-port", str(free_port_pair()), "--facilitator-port", str(free_port()),
        "--server-port", str(free_port()), "--dashboard-port", "0",
    ]  # fmt: skip


def cheat(rpc_url: str, headers: dict[str, str] | None = None) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": "sandbox_getInfo", "params": []}
    return httpx.post(rpc_url, json=body, headers=headers or {}, timeout=10).json()


@pytest.fixture(scope="module")
def strict_stack(tmp_path_factory):
    """`up --require-admin-token`: chain and facilitator refuse tokenless loopback callers."""
    home = tmp_path_factory.mktemp("strict")
    result = cli(
        "up", "--home", str(home), *ports(), "--slot-ms", "0", "--payers", "2",
        "--require-admin-token", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    yield home, json.loads(result.stdout)
    cli("down", "--home", str(home))


def test_the_token_is_made_once_per_home_and_kept_private(strict_stack):
    home, info = strict_stack
    paths = StackPaths(home)
    token = read_admin_token(paths)
    assert token and len(token) >= 24
    for path in (paths.admin_token, paths.stack_env):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert f"export X402_SANDBOX_ADMIN_TOKEN={token}" in paths.stack_env.read_text()
    assert token not in paths.stack_json.read_text()  # argv and stack.json are world-readable
    # The stack really requires it: without it the cheat codes and admin routes refuse.
    assert cheat(info["rpc_url"])["error"]["code"] == -32000
    assert "result" in cheat(info["rpc_url"], {"Authorization": f"Bearer {token}"})
    faults = f"{info['facilitator_url']}/_sandbox/faults"
    assert httpx.get(faults, timeout=10).status_code == 401


def test_fund_status_and_pay_send_the_token(strict_stack):
    home, info = strict_stack
    wallet = str(Keypair().pubkey())
    funded = cli("fund", wallet, "--home", str(home), "--usdc", "1")
    assert funded.returncode == 0, funded.stderr
    assert "holds 1.00 USDC" in funded.stdout
    paid = cli(
        "pay", f"{info['server_url']}/api/weather", "--keypair",
        str(StackPaths(home).key("payer-0")), "--rpc-url", info["rpc_url"],
    )  # fmt: skip
    assert paid.returncode == 0, paid.stdout + paid.stderr
    status = cli("status", "--home", str(home), "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert all(c["healthy"] for c in data["components"].values())
    assert "could not" not in status.stderr


def test_scenarios_fund_their_stories_on_a_strict_stack(strict_stack):
    home, _ = strict_stack
    # expired-blockhash needs cheat codes (funding and time travel): skipped when the token
    # does not reach the chain; facilitator-errors needs the facilitator's fault injection.
    result = cli(
        "scenarios", "expired-blockhash", "facilitator-errors", "--home", str(home),
        "--json", str(home / "scenarios.json"),
    )  # fmt: skip
    report = json.loads((home / "scenarios.json").read_text())
    outcomes = {item["name"]: item["outcome"] for item in report}
    assert outcomes == {"expired-blockhash": "passed", "facilitator-errors": "passed"}, (
        result.stdout
    )


def test_loadtest_funds_its_payers_on_a_strict_stack(strict_stack):
    home, _ = strict_stack
    result = cli(
        "loadtest", "paid-flow", "--home", str(home), "--duration", "3s", "--users", "2",
        "--payers", "2", "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reconciled" in result.stdout


def test_a_token_given_in_component_flags_is_the_stack_token(tmp_path: Path):
    home = tmp_path / "flags"
    result = cli(
        "up", "--home", str(home), *ports(), "--slot-ms", "0", "--payers", "1",
        "--chain-arg=--admin-token=tok-from-flags", "--facilitator-arg=--admin-token",
        "--facilitator-arg=tok-from-flags", "--json",
    )  # fmt: skip
    try:
        assert result.returncode == 0, result.stderr + result.stdout
        assert read_admin_token(StackPaths(home)) == "tok-from-flags"
    finally:
        cli("down", "--home", str(home))
    clash = cli(
        "up", "--home", str(home), *ports(), "--chain-arg=--admin-token=a",
        "--facilitator-arg=--admin-token=b",
    )  # fmt: skip
    assert clash.returncode == 1
    assert "different admin tokens" in clash.stderr
    assert "Traceback" not in clash.stderr
