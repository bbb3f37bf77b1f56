"""The scenario catalogue against the real stack, and the runner's reports and exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from sandbox.processes import free_port
from sandbox.scenario_runner import Context, framework, scenario
from sandbox.scenario_runner.runner import discover, run

pytestmark = pytest.mark.slow

EXPECTED_STORIES = {
    "happy-path-v1", "happy-path-v2", "dynamic-price", "upfront-route", "underpay", "overpay",
    "wrong-mint", "wrong-recipient", "wrong-network", "expired-blockhash", "insufficient-funds",
    "tampered-signature", "fee-payer-as-authority", "fee-payer-in-instruction",
    "extra-instruction", "replay-settled-payment", "parallel-race", "nonce-reuse",
    "route-binding", "malformed-headers", "facilitator-down", "facilitator-slow",
    "settlement-pending", "facilitator-lying", "chain-drops-transaction",
    "fee-payer-out-of-sol", "handler-failure", "facilitator-errors", "memo-less-client",
    "first-time-merchant", "payment-id-retry", "payment-id-conflict", "payment-id-required",
    "payment-id-in-flight", "discovery", "sign-in", "lighthouse-instruction",
    "allow-listed-instructions", "several-memos", "pyusd-payment",
}  # fmt: skip
# Stories for a facilitator policy the default stack does not run: skipped there, saying so.
POLICY_SKIPS = {
    "allow-listed-instructions": "needs a facilitator run as --layout role-based",
}


def scenarios_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "scenarios", *args],
        capture_output=True,
        text=True,
        timeout=400,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_every_story_is_in_the_catalogue() -> None:
    assert set(discover()) >= EXPECTED_STORIES


def test_the_whole_catalogue_passes_on_the_sandbox(x402_stack, tmp_path: Path) -> None:
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    result = scenarios_cli("--home", x402_stack.home, "--json", str(report), "--junit", str(junit))
    results = json.loads(report.read_text())
    failed = [
        r
        for r in results
        if not r["passed"]
        and not (r["skipped"] and r["detail"].startswith(POLICY_SKIPS.get(r["name"], "\0")))
    ]
    assert not failed, json.dumps(failed, indent=2)
    assert result.returncode == 0, result.stdout[-3000:]
    assert {r["name"] for r in results} >= EXPECTED_STORIES
    # The facilitator reports its policy (exact by default) and overpay holds it to it.
    overpay = next(r for r in results if r["name"] == "overpay")
    assert overpay["detail"].startswith("policy exact: refused"), overpay
    assert all({"name", "passed", "seconds", "detail"} <= set(r) for r in results)
    suite = ElementTree.parse(junit).getroot()
    assert suite.get("failures") == "0" and int(suite.get("tests")) == len(results)


def test_a_failing_story_fails_the_run(x402_stack) -> None:
    @scenario("always-wrong", "Expects the free /health route to cost money.")
    async def always_wrong(ctx: Context) -> str:
        reply = await ctx.request("/health")
        ctx.expect(reply.status == 402, f"/health answered {reply.status}, not 402")
        return "unreachable"

    try:
        item = framework.REGISTRY["always-wrong"]
        results = asyncio.run(
            run([item], x402_stack.server_url, x402_stack.facilitator_url, x402_stack.rpc_url)
        )
    finally:
        framework.REGISTRY.pop("always-wrong", None)
    assert not results[0].passed
    assert results[0].detail == "/health answered 200, not 402"


def test_a_failing_story_exits_1_and_is_reported(x402_stack, tmp_path: Path) -> None:
    # /api/broken's handler always fails, so the happy path must fail on it; underpay (a
    # refusal) still passes there: one failure among passes is enough for exit code 1.
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    result = scenarios_cli(
        "happy-path-v2", "underpay", "--home", x402_stack.home, "--path", "/api/broken",
        "--json", str(report), "--junit", str(junit),
    )  # fmt: skip
    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 passed, 1 failed, 0 skipped" in result.stdout
    results = {r["name"]: r for r in json.loads(report.read_text())}
    failed = results["happy-path-v2"]
    assert (failed["passed"], failed["skipped"], failed["status"]) == (False, False, "failed")
    assert "HTTP 500" in failed["detail"] and failed["seconds"] > 0
    assert results["underpay"]["status"] == "passed"
    suite = ElementTree.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "1", "0")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert "HTTP 500" in cases["happy-path-v2"].find("failure").get("message")
    assert cases["underpay"].find("failure") is None


def test_overpay_expects_the_policy_it_is_told(x402_stack, tmp_path: Path) -> None:
    # The stack's facilitator runs 'exact': told 'at-least', the refusal is a failure.
    report = tmp_path / "report.json"
    result = scenarios_cli(
        "overpay", "--home", x402_stack.home, "--amount-policy", "at-least", "--json", str(report)
    )
    assert result.returncode == 1, result.stdout[-3000:]
    (overpay,) = json.loads(report.read_text())
    assert overpay["detail"].startswith("policy at-least, yet the overpayment was refused")


@pytest.mark.parametrize("flag", ["--server", "--facilitator", "--rpc"])
def test_an_unreachable_target_is_named_with_its_flag(x402_stack, tmp_path: Path, flag) -> None:
    # Before: every story skipped or failed on its own and the run could still exit 0.
    targets = {
        "--server": x402_stack.server_url,
        "--facilitator": x402_stack.facilitator_url,
        "--rpc": x402_stack.rpc_url,
    }
    dead = f"http://127.0.0.1:{free_port()}"
    targets[flag] = dead
    report = tmp_path / "report.json"
    args = [word for pair in targets.items() for word in pair]
    result = scenarios_cli("happy-path-v2", *args, "--json", str(report))
    assert result.returncode == 2, result.stdout
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    assert dead in lines[0] and f"pass {flag} URL" in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert not report.exists()  # nothing ran


def test_a_path_that_is_not_paid_is_named(x402_stack) -> None:
    result = scenarios_cli("happy-path-v2", "--home", x402_stack.home, "--path", "/health")
    assert result.returncode == 2, result.stdout
    assert "/health answered HTTP 200, not 402" in result.stdout
    assert "--path" in result.stdout


def test_unknown_scenario_is_named() -> None:
    result = scenarios_cli("no-such-story")
    assert result.returncode == 2
    assert "no-such-story" in result.stdout
