"""`up --route-binding none` (what `make up ARGS="--route-binding none"` runs): the server offers
no extra.memo, says so in /health and in up's summary, and the route-binding story is skipped
saying why; real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sandbox.processes import free_port, free_port_pair
from sandbox.protocol import decode_payment_required

pytestmark = pytest.mark.slow


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_up_help_names_the_flag() -> None:
    result = cli("up", "--help")
    assert result.returncode == 0
    assert "--route-binding" in result.stdout


def test_up_without_memo_binding(tmp_path: Path) -> None:
    home = tmp_path / "unbound"
    server_port = free_port()
    result = cli(
        "up", "--home", str(home), "--rpc-port", str(free_port_pair()),
        "--facilitator-port", str(free_port()), "--server-port", str(server_port),
        "--dashboard-port", "0",
        "--slot-ms", "0", "--payers", "1", "--route-binding", "none",
    )  # fmt: skip
    try:
        assert result.returncode == 0, result.stderr
        assert "memo binding is off" in result.stdout
        server = f"http://127.0.0.1:{server_port}"
        health = httpx.get(f"{server}/health", timeout=10).json()
        assert health["routeBinding"] == "none"
        challenge = httpx.get(f"{server}/api/premium-content", timeout=10)
        offer = decode_payment_required(challenge.headers["PAYMENT-REQUIRED"]).accepts[0]
        assert "memo" not in (offer.extra or {})
        report = tmp_path / "report.json"
        ran = cli(
            "scenarios", "--home", str(home), "--json", str(report), "route-binding",
            "happy-path-v2", "memo-less-client", "nonce-reuse", timeout=180,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stdout + ran.stderr
        results = {r["name"]: r for r in json.loads(report.read_text())}
        assert results["route-binding"]["outcome"] == "skipped", results
        assert "--route-binding none" in results["route-binding"]["detail"]
        for name in ("happy-path-v2", "memo-less-client", "nonce-reuse"):
            assert results[name]["outcome"] == "passed", results
        assert "paid" in results["memo-less-client"]["detail"]
    finally:
        cli("down", "--home", str(home))
