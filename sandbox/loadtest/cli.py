"""`x402-sandbox loadtest PROFILE [options]` and `x402-sandbox loadtest compare A B`.

Exit status: 0 the run passed; 1 a threshold was crossed or the money did not reconcile;
2 bad usage (unknown profile, bad duration, ...); 3 the run could not happen (no stack, target
down, Locust failed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from rich.table import Table

from loadtests.profiles import PROFILES
from sandbox.console import make_console
from sandbox.jsonrpc import RpcError
from sandbox.loadtest.compare import DEFAULT_THRESHOLD, CompareError, last_two, print_comparison
from sandbox.loadtest.resolve import LoadtestError, resolve_home
from sandbox.loadtest.session import LoadtestOptions, run_loadtest
from sandbox.loadtest.verdict import DEFAULT_FAIL_RATIO
from sandbox.payer import PayerError

__all__ = ["main", "parse_duration"]

SHAPES = ("constant", "step", "spike", "rate")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")


class UsageError(ValueError):
    pass


def parse_duration(text: str) -> float:
    """'60s', '2m', '1m30s', '1h', '90' -> seconds."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or not match or not any(match.groups()):
        raise UsageError(f"bad duration {text!r}: use e.g. 60s, 2m, 1m30s or 90")
    hours, minutes, seconds = match.groups()
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    if total <= 0:
        raise UsageError(f"bad duration {text!r}: must be longer than 0 s")
    return total


def _profiles_text() -> str:
    return "\n".join(f"  {p.name:<10} {p.description}" for p in PROFILES.values())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="x402-sandbox loadtest",
        description="Run a Locust load profile headless and write a report.",
        epilog=f"profiles:\n{_profiles_text()}\n\n"
        "x402-sandbox loadtest compare REPORT_A REPORT_B   compare two runs\n"
        "x402-sandbox loadtest compare --last [--threshold PERCENT] [--home DIR]\n"
        "    the two newest runs of a profile; exit 1 when the main phase lost more than\n"
        "    PERCENT (20) of its throughput or its p50 grew by more",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("profile", help="paid-flow | challenge | verify | settle")
    parser.add_argument("--users", "-u", type=int, default=10, help="concurrent users (10)")
    parser.add_argument("--spawn-rate", "-r", type=float, help="users started per second")
    parser.add_argument("--duration", "-t", default="60s", help="run time, e.g. 60s, 2m (60s)")
    parser.add_argument("--shape", default="constant", help=f"load shape: {', '.join(SHAPES)}")
    parser.add_argument(
        "--rate", type=float, help="constant arrival rate, iterations/s (all users)"
    )
    parser.add_argument("--server", help="paid server URL (default: the running sandbox's)")
    parser.add_argument("--facilitator", help="facilitator URL (default: the sandbox's)")
    parser.add_argument("--rpc", help="Solana JSON-RPC URL (default: the sandbox's)")
    parser.add_argument("--processes", type=int, default=1, help="Locust processes (1)")
    parser.add_argument("--fail-p99", type=float, metavar="MS", help="fail above this p99")
    parser.add_argument(
        "--fail-ratio", "--fail-error-rate", dest="fail_ratio", type=float, metavar="X",
        default=DEFAULT_FAIL_RATIO, help="fail when more of the main phase fails (0-1; 0.01)",
    )  # fmt: skip
    parser.add_argument("--payers", type=int, default=20, help="payer wallets in the pool (20)")
    parser.add_argument("--keys", type=Path, help="folder of funded payer keypairs (foreign chain)")
    parser.add_argument("--path", default="/api/premium-content", help="paid route to load")
    parser.add_argument(
        "--payment-ids",
        choices=("on", "off"),
        default="on",
        help="paid-flow: send a fresh payment identifier where the 402 declares the extension, "
        "as the sandbox payer does (on)",
    )
    parser.add_argument("--amount", type=int, default=1000, help="verify/settle atomic USDC")
    parser.add_argument("--pay-to", help="merchant wallet for verify/settle")
    parser.add_argument("--home", help="sandbox home (default $X402_SANDBOX_HOME or .sandbox)")
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("X402_SANDBOX_ADMIN_TOKEN") or os.environ.get("X402_ADMIN_TOKEN"),
        help="sent with the chain's cheat codes (default: the running stack's own)",
    )
    parser.add_argument("--report-dir", type=Path, help="write the report here instead")
    parser.add_argument("--no-progress", action="store_true", help="no live progress line")
    parser.add_argument("--ui", action="store_true", help="start Locust's web UI instead")
    parser.add_argument(
        "--autostart", action="store_true",
        help="with --ui: start at once and measure the run as headless runs do",
    )  # fmt: skip
    parser.add_argument("--web-port", type=int, default=8089, help="with --ui (8089)")
    parser.add_argument("--json", action="store_true", help="print summary.json to stdout")
    return parser


def _options(args: argparse.Namespace) -> LoadtestOptions:
    if args.profile not in PROFILES:
        raise UsageError(f"unknown profile {args.profile!r}; choose one of:\n{_profiles_text()}")
    if args.shape not in SHAPES:
        raise UsageError(f"unknown shape {args.shape!r}; choose one of {', '.join(SHAPES)}")
    if args.shape == "rate" and not args.rate:
        raise UsageError("--shape rate needs --rate ITERATIONS_PER_SECOND")
    for name in ("users", "processes", "payers"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} must be at least 1")
    if args.spawn_rate is not None and args.spawn_rate <= 0:
        raise UsageError("--spawn-rate must be positive")
    if args.rate is not None and args.rate <= 0:
        raise UsageError("--rate must be positive")
    if not 0 <= args.fail_ratio <= 1:
        raise UsageError("--fail-ratio is a share between 0 and 1, e.g. 0.01")
    if args.autostart and not args.ui:
        raise UsageError("--autostart goes with --ui (a headless run starts at once anyway)")
    if not 1 <= args.web_port <= 65535:
        raise UsageError("--web-port must be a TCP port, 1-65535")
    if not args.path.startswith("/"):
        raise UsageError("--path must start with '/'")
    if args.keys is not None and not args.keys.is_dir():
        raise UsageError(f"--keys {args.keys} is not a folder")
    return LoadtestOptions(
        profile=args.profile,
        home=resolve_home(args.home),
        users=args.users,
        spawn_rate=args.spawn_rate,
        duration=parse_duration(args.duration),
        shape=args.shape,
        rate=args.rate,
        server=args.server,
        facilitator=args.facilitator,
        rpc=args.rpc,
        processes=args.processes,
        fail_p99=args.fail_p99,
        fail_ratio=args.fail_ratio,
        payers=args.payers,
        keys=args.keys,
        path=args.path,
        amount=args.amount,
        pay_to=args.pay_to,
        admin_token=args.admin_token,
        report_dir=args.report_dir,
        progress=not args.no_progress and not args.json,
        web_ui=args.ui,
        autostart=args.autostart,
        web_port=args.web_port,
        payment_ids=args.payment_ids == "on",
    )


def summary_table(summary: dict) -> Table:
    table = Table(title=f"{summary['profile']}: {summary['run']['users']} users, "
                        f"{summary['run']['durationSeconds']:g} s")  # fmt: skip
    for column in ("phase", "count", "fails", "p50 ms", "p90 ms", "p99 ms", "max ms", "req/s"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for name, p in summary["phases"].items():
        style = "bold" if name == summary["mainPhase"] else None
        table.add_row(
            name, str(p["count"]), str(p["failures"]), f"{p['p50']:g}", f"{p['p90']:g}",
            f"{p['p99']:g}", f"{p['max']:.0f}", f"{p['rps']:.1f}", style=style,
        )  # fmt: skip
    return table


def _print_summary(summary: dict, report_dir: Path, console) -> None:
    console.print(summary_table(summary))
    generator = summary["generator"]
    cpu = generator["cpu"]
    console.print(
        f"generator: CPU {cpu.get('avgPercent', '?')}% avg of one core over "
        f"{cpu.get('processes', '?')} process(es) (busiest process "
        f"{cpu.get('busiestProcessMaxPercent', '?')}% max), machine "
        f"{cpu.get('machineAvgPercent', '?')}% of {cpu.get('cores')} cores; "
        f"{generator['signed']} payments signed ({generator['signPerSecond']}/s)"
        + (f", {generator['starved']} starved" if generator["starved"] else "")
    )
    chain = summary["chain"]
    if chain["transactions"] is not None:
        console.print(f"chain: {chain['transactions']} transactions during the run")
    rec = summary["reconciliation"]
    if rec["checked"]:
        if rec["ok"] and not rec["payments"] and not rec["merchantReceivedAtomic"]:
            console.print("[green]reconciled:[/] no money moved, as expected")
        elif rec["ok"]:
            console.print(
                f"[green]reconciled:[/] {rec['payments']} payments, merchant received "
                f"{rec['merchantReceivedAtomic']} atomic USDC, payers spent "
                f"{rec['payersSpentAtomic']}"
            )
        for problem in rec["problems"]:
            console.print(f"[red]reconciliation:[/] {problem}")
        for note in rec["notes"]:
            console.print(f"[yellow]note:[/] {note}")
    verdict = summary["verdict"]
    for warning in verdict["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")
    for failure in summary.get("failureReasons", [])[:5]:
        console.print(
            f"[red]failed:[/] {failure['name']}: {failure['error']} (x{failure['occurrences']})"
        )
    if verdict["ok"]:
        console.print(f"[green]PASS[/]  report: {report_dir}/report.html")
    else:
        console.print(f"[red]FAIL[/]  report: {report_dir}/report.html")
        for reason in verdict["reasons"]:
            console.print(f"  [red]-[/] {reason}")


def _compare(argv: list[str], console, err) -> int:
    parser = argparse.ArgumentParser(
        prog="x402-sandbox loadtest compare",
        description="two runs side by side; exit 1 on a regression of the main phase",
    )
    parser.add_argument("reports", nargs="*", metavar="REPORT", help="REPORT_A REPORT_B")
    parser.add_argument("--last", action="store_true", help="the two newest runs of a profile")
    parser.add_argument("--home", help="sandbox home (default $X402_SANDBOX_HOME or .sandbox)")
    parser.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="PERCENT",
        help=f"regression: throughput or p50 worse by more than this ({DEFAULT_THRESHOLD:g})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        if args.last and not args.reports:
            a, b = last_two(resolve_home(args.home) / "reports")
        elif len(args.reports) == 2 and not args.last:
            a, b = args.reports
        else:
            err.print("usage: x402-sandbox loadtest compare REPORT_A REPORT_B | --last")
            return 2
        found = print_comparison(a, b, console, args.threshold)
    except CompareError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return 2
    return 1 if found else 0


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    console = make_console()
    err = make_console(stderr=True)
    if args_list and args_list[0] == "compare":
        return _compare(args_list[1:], console, err)
    if args_list and args_list[0] in ("list", "profiles"):
        console.print(_profiles_text())
        return 0
    parser = _parser()
    args = parser.parse_args(args_list)
    try:
        options = _options(args)
    except UsageError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return 2
    try:
        summary, report_dir = run_loadtest(options, err if args.json else console)
    except (LoadtestError, RpcError, PayerError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return 3
    if summary.get("ui"):
        return int(summary["exitCode"])
    if args.json:
        print(json.dumps({k: v for k, v in summary.items() if k != "series"}, indent=2))
    else:
        _print_summary(summary, report_dir, console)
    return 0 if summary["ok"] else 1
