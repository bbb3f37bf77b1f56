"""One load-test run from start to report: targets, wallets, snapshot, Locust, reconcile.

options -> targets (flags or the running sandbox) -> payer pool (created and funded with
cheat codes on a sandbox, or keypair files) -> chain snapshot -> Locust subprocess ->
settle quiet -> chain snapshot -> reconciliation -> summary.json + report.html
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from loadtests.profiles import PROFILES, Profile
from loadtests.wallets import keypair_files
from sandbox.loadtest.chain_accounts import (
    ChainAccounts,
    Snapshot,
    ensure_token_account,
    prepare_payers,
)
from sandbox.loadtest.reconcile import Reconciliation, merge_accounting, reconcile
from sandbox.loadtest.report_html import render_report
from sandbox.loadtest.resolve import LoadtestError, resolve_targets
from sandbox.loadtest.run import RunPlan, locust_command, run_locust
from sandbox.loadtest.server_metrics import read_server_metrics, server_split
from sandbox.loadtest.summary import history_series, phase_stats, threshold_failures
from sandbox.loadtest.verdict import DEFAULT_FAIL_RATIO, failure_reasons, judge
from sandbox.orchestration.stack import StackPaths, read_admin_token
from sandbox.payer import load_keypair, read_challenge
from sandbox.protocol import USDC_DEVNET_MINT

__all__ = ["LoadtestOptions", "run_loadtest"]

PAYER_USDC = 1_000_000_000  # 1,000 USDC per pool payer, topped up below half


@dataclass
class LoadtestOptions:
    profile: str
    home: Path
    users: int = 10
    spawn_rate: float | None = None
    duration: float = 60.0
    shape: str = "constant"
    rate: float | None = None
    server: str | None = None
    facilitator: str | None = None
    rpc: str | None = None
    processes: int = 1
    fail_p99: float | None = None
    fail_ratio: float = DEFAULT_FAIL_RATIO
    payers: int = 20
    keys: Path | None = None
    path: str = "/api/premium-content"
    amount: int = 1_000
    pay_to: str | None = None
    admin_token: str | None = None
    report_dir: Path | None = None
    progress: bool = True
    web_ui: bool = False
    autostart: bool = False
    web_port: int = 8089
    payment_ids: bool = True  # paid-flow: a payment-identifier where the 402 declares one
    extra_env: dict[str, str] = field(default_factory=dict)


def _challenge_offer(server: str, path: str) -> tuple[str, str, int]:
    """(payTo, asset, amount) of the route's 402, to know whose balance to watch."""
    try:
        response = httpx.get(f"{server}{path}", timeout=10.0)
    except httpx.HTTPError as exc:
        raise LoadtestError(f"GET {server}{path} failed: {exc}") from None
    if response.status_code != 402:
        raise LoadtestError(
            f"GET {server}{path} answered {response.status_code}, not 402: is it a paid route?"
        )
    try:
        offer = read_challenge(response.headers, response.content).accepts[0]
    except Exception as exc:
        raise LoadtestError(
            f"the 402 of {server}{path} is not a readable challenge: {exc}"
        ) from None
    return offer.pay_to, offer.asset, offer.atomic_amount


def _wait_quiet(chain: ChainAccounts, seconds: float = 10.0) -> None:
    """Settlements answered after the last Locust request may still be landing."""
    deadline = time.monotonic() + seconds
    last = chain.transaction_count()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = chain.transaction_count()
        if now == last:
            return
        last = now


def _local_targets(stack, host: str) -> dict[str, int]:
    """The stack's processes, when the load goes to that stack (on this machine)."""
    if stack is None or host not in (stack.server_url, stack.facilitator_url):
        return {}
    return {name: pid for name, pid in (stack.pids or {}).items() if pid}


def _web_ui(plan: RunPlan, console: Console) -> dict[str, Any]:
    """Locust's web UI in the foreground (Ctrl-C to stop): no summary, no reconciliation
    (with --autostart the run is a measured one, summary and reconciliation included)."""
    console.print(
        f"Locust web UI on http://127.0.0.1:{plan.web_port} (its x402 tab: the main phase "
        f"alone; Ctrl-C stops it); reports in {plan.report_dir}"
    )
    try:
        code = subprocess.call(locust_command(plan), env={**os.environ, **plan.env})
    except KeyboardInterrupt:
        code = 0
    return {"ui": True, "exitCode": code}


def run_loadtest(options: LoadtestOptions, console: Console) -> tuple[dict[str, Any], Path]:
    profile: Profile = PROFILES[options.profile]
    targets = resolve_targets(
        options.home, profile.target, options.server, options.facilitator, options.rpc
    )
    host = targets.server_url if profile.target == "server" else targets.facilitator_url
    assert host is not None
    token = options.admin_token
    if token is None and targets.stack is not None and targets.rpc_url == targets.stack.rpc_url:
        token = read_admin_token(StackPaths(options.home))  # the stack's own, never to others
    chain = ChainAccounts(targets.rpc_url, token) if targets.rpc_url else None
    info = chain.sandbox_info() if chain else None
    mint = (
        (targets.stack.usdc_mint if targets.stack else None)
        or (info or {}).get("usdcMint")
        or USDC_DEVNET_MINT
    )
    needs_wallets = options.profile != "challenge"
    if needs_wallets and chain is None:
        raise LoadtestError(f"the {options.profile} profile signs payments: give --rpc URL")

    started_at = time.strftime("%Y%m%d-%H%M%S")
    report_dir = options.report_dir or (
        options.home / "reports" / f"{started_at}-{options.profile}"
    )
    report_dir.mkdir(parents=True, exist_ok=True)

    # Wallets: the sandbox's own pool (created and funded here) or the user's keypair files.
    payers: list[str] = []
    keys_dir = options.keys
    if needs_wallets:
        assert chain is not None
        if keys_dir is None:
            if info is None:
                raise LoadtestError(
                    f"the chain at {targets.rpc_url} is not a sandbox (no cheat codes to fund "
                    "payers): pass --keys DIR with funded payer keypairs (Solana CLI JSON)"
                )
            keys_dir = options.home / "loadtest" / "payers"
            console.print(f"funding {options.payers} payer wallets in {keys_dir}")
            payers = prepare_payers(chain, keys_dir, options.payers, mint, PAYER_USDC)
        else:
            files = keypair_files(keys_dir)[: options.payers]
            if not files:
                raise LoadtestError(f"no keypair files (*.json) in {keys_dir}")
            payers = [str(load_keypair(f).pubkey()) for f in files]

    merchant: str | None = None
    if options.profile in ("paid-flow", "challenge"):
        assert targets.server_url is not None
        merchant, mint, _ = _challenge_offer(targets.server_url, options.path)
    else:
        merchant = options.pay_to or targets.merchant
        if merchant is None:
            raise LoadtestError(
                "no merchant to pay: pass --pay-to WALLET (its USDC account must exist)"
            )
        if info is not None and chain is not None:
            ensure_token_account(chain, merchant, mint)

    env = {
        "X402_SANDBOX_SERVER_URL": targets.server_url or "",
        "X402_SANDBOX_FACILITATOR_URL": targets.facilitator_url or "",
        "X402_SANDBOX_RPC_URL": targets.rpc_url or "",
        "X402_SANDBOX_KEYS_DIR": str(keys_dir or ""),
        "X402_SANDBOX_USDC_MINT": mint,
        "X402_LOADTEST_PAYERS": str(options.payers),
        "X402_LOADTEST_PATH": options.path,
        "X402_LOADTEST_AMOUNT": str(options.amount),
        "X402_LOADTEST_PAY_TO": merchant or "",
        "X402_LOADTEST_OUT": str(report_dir / "processes"),
        "X402_LOADTEST_USERS": str(options.users),
        "X402_LOADTEST_SPAWN_RATE": f"{options.spawn_rate or options.users:g}",
        "X402_LOADTEST_DURATION": f"{options.duration:g}",
        "X402_LOADTEST_SHAPE": "constant" if options.shape == "rate" else options.shape,
        "X402_LOADTEST_RATE": f"{options.rate:g}" if options.rate else "",
        "X402_LOADTEST_MAIN": profile.main_entry,
        "X402_LOADTEST_PAYMENT_IDS": "on" if options.payment_ids else "off",
        **options.extra_env,
    }
    plan = RunPlan(
        locustfile=profile.path,
        host=host,
        users=options.users,
        spawn_rate=options.spawn_rate or float(options.users),
        duration=options.duration,
        report_dir=report_dir,
        env=env,
        shape="constant" if options.shape == "rate" else options.shape,
        processes=options.processes,
        main_entry=profile.main_entry,
        web_ui=options.web_ui,
        autostart=options.autostart,
        web_port=options.web_port,
        watch=_local_targets(targets.stack, host),
    )

    if options.web_ui and not options.autostart:
        return _web_ui(plan, console), report_dir
    before = Snapshot.take(chain, merchant, payers, mint) if chain else None
    server_url = targets.server_url if profile.target == "server" else None
    metrics_before = read_server_metrics(server_url)
    console.print(
        f"[bold]{options.profile}[/] against {host}: {options.users} users, shape "
        f"{options.shape}, {options.duration:g} s, {options.processes} process(es) -> {report_dir}"
    )
    result = run_locust(plan, console, progress=options.progress)
    after = None
    if chain is not None and before is not None:
        _wait_quiet(chain)
        after = Snapshot.take(chain, merchant, payers, mint)

    server_time = server_split(metrics_before, read_server_metrics(server_url))
    stats_file = report_dir / "locust_stats.json"
    if not stats_file.exists():
        tail = (report_dir / "locust.log").read_text(errors="replace")[-3000:]
        raise LoadtestError(f"Locust wrote no statistics (exit {result.returncode}):\n{tail}")
    phases = phase_stats(stats_file)
    merged = merge_accounting(report_dir / "processes")
    if before is not None and after is not None:
        reconciliation = reconcile(profile.moves_money, before, after, merged)
    else:
        reconciliation = Reconciliation(checked=False, notes=["no chain to reconcile with"])
    crossed = threshold_failures(
        phases.get(profile.main_entry), profile.main_entry, options.fail_p99, None
    )  # fmt: skip
    run_seconds = max(1e-9, min(result.wall_seconds, options.duration))
    summary: dict[str, Any] = {
        "profile": options.profile,
        "startedAt": started_at,
        "run": {
            "host": host,
            "users": options.users,
            "spawnRate": plan.spawn_rate,
            "shape": options.shape,
            "rate": options.rate,
            "durationSeconds": options.duration,
            "wallSeconds": result.wall_seconds,
            "processes": options.processes,
            "payers": len(payers),
            "paymentIds": options.payment_ids,
            "command": " ".join(locust_command(plan)),
            "locustExitCode": result.returncode,
            "interrupted": result.interrupted,
        },
        "targets": {
            "server": targets.server_url,
            "facilitator": targets.facilitator_url,
            "rpc": targets.rpc_url,
            "merchant": merchant,
            "asset": mint,
            "sandbox": info is not None,
        },
        "mainPhase": profile.main_entry,
        "phases": phases,
        "generator": {
            "signed": merged["signed"],
            "signPerSecond": round(merged["signed"] / run_seconds, 1),
            "signMsMean": round(1000 * merged["signSeconds"] / merged["signed"], 4)
            if merged["signed"]
            else None,
            "signCapacityPerCpuSecond": round(merged["signed"] / merged["signSeconds"])
            if merged["signSeconds"]
            else None,
            "starved": merged["starved"],
            "locustProcessesReporting": merged["processes"],
            "cpu": result.cpu,
        },
        "chain": {
            "transactionsBefore": before.transactions if before else None,
            "transactionsAfter": after.transactions if after else None,
            "transactions": (after.transactions - before.transactions)
            if before
            and after
            and before.transactions is not None
            and after.transactions is not None
            else None,
        },
        "reconciliation": reconciliation.to_json(),
        "thresholds": {
            "failP99Ms": options.fail_p99,
            "failRatio": options.fail_ratio,
            "crossed": crossed,
        },
        "targetCpu": result.target_cpu,
        "serverSplit": server_time,
        "failureReasons": failure_reasons(
            Path(f"{plan.csv_prefix}_failures.csv"), merged["failures"]
        ),
        "series": history_series(Path(f"{plan.csv_prefix}_stats_history.csv")),
    }
    slot_ms = (info or {}).get("slotMs")
    summary.update(
        judge(summary, options.fail_ratio, slot_ms if isinstance(slot_ms, int) else None)
    )
    summary["ok"] = summary["verdict"]["ok"]
    (report_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (report_dir / "report.html").write_text(render_report(summary))
    if chain is not None:
        chain.close()
    return summary, report_dir
