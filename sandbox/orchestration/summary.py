"""What `up` and `status` print: where everything is, balances, and what to try next."""

from __future__ import annotations

import contextlib
import shlex
import sqlite3
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sandbox.admin_guard import admin_headers
from sandbox.orchestration.stack import StackInfo
from sandbox.orchestration.wallets import Wallet
from sandbox.protocol import PYUSD_DEVNET_MINT


def _sol(lamports: int) -> str:
    return f"{lamports / 1e9:,.4f}"


def _usdc(atomic: int | None) -> str:
    return "-" if atomic is None else f"{atomic / 1e6:,.2f}"


def wallet_table(wallets: list[Wallet], limit_payers: int = 3) -> Table:
    table = Table(title="Wallets", title_justify="left")
    table.add_column("name")
    table.add_column("address", no_wrap=True)
    table.add_column("SOL", justify="right")
    table.add_column("USDC", justify="right")
    payers = [w for w in wallets if w.name.startswith("payer-")]
    for wallet in wallets:
        if wallet in payers[limit_payers:]:
            continue
        table.add_row(wallet.name, wallet.address, _sol(wallet.sol), _usdc(wallet.usdc))
    if len(payers) > limit_payers:
        table.add_row(f"... {len(payers) - limit_payers} more payers", "", "", "")
    return table


DEFAULT_HOME = ".sandbox"
DEFAULT_SERVER_URL = "http://127.0.0.1:4021"
DEFAULT_RPC_URL = "http://127.0.0.1:8899"


def _make_var(name: str, words: list[str]) -> str:
    """`NAME=...` for a make command line; make pastes it into a shell recipe unquoted, so the
    value is shell words, and the whole assignment is quoted once more for the user's shell."""
    value = shlex.join(words)
    if value == shlex.quote(value):
        return f"{name}={value}"
    if not any(char in value for char in '"$`\\!'):  # nothing double quotes would expand
        return f'{name}="{value}"'
    return shlex.quote(f"{name}={value}")


def _make(target: str, url: str | None = None, args: list[str] | None = None) -> str:
    parts = ["make", target]
    if url:
        parts.append(_make_var("URL", [url]))
    if args:
        parts.append(_make_var("ARGS", args))
    return " ".join(parts)


def next_steps(info: StackInfo, default_home: Path | None = None) -> list[tuple[str, str]]:
    """(command, what it does) to try next, for this stack: the bare `make` targets assume the
    default home (./.sandbox) and ports, so a stack elsewhere gets the flags that reach it."""
    default_home = (default_home or Path(DEFAULT_HOME)).resolve()
    home_args = [] if Path(info.home) == default_home else ["--home", info.home]
    pay_url = f"{info.server_url}/api/premium-content"
    pay_args: list[str] = []
    payer = next((w for w in info.wallets if w.name == "payer-0"), None)
    if home_args and payer:
        pay_args += ["--keypair", payer.keypair_file]
    if info.rpc_url != DEFAULT_RPC_URL:
        pay_args += ["--rpc-url", info.rpc_url]
    steps = [(f"curl -i {shlex.quote(pay_url)}", "the 402 challenge")]
    if payer:
        url = None if info.server_url == DEFAULT_SERVER_URL else pay_url
        steps.append((_make("pay", url, pay_args), "pay it with payer-0, step by step"))
    if info.dashboard_url:
        steps.append((f"open {info.dashboard_url}", "every payment live, faults one click away"))
    steps += [
        (_make("scenarios", args=home_args), "every payment story, checked on chain"),
        (_make("loadtest", args=home_args), "Locust on the paid round trip"),
    ]
    if home_args:
        steps.append((_make("status", args=home_args), "also logs and down, with the same ARGS"))
    else:
        steps.append(("make status | make logs | make down", ""))
    return steps


READ_TIMEOUT = 10.0  # a busy machine answers late; a short timeout would hide what we ask for


def component_bugs(base_url: str) -> list[str] | None:
    """The bugs a component runs with on purpose (`--bug`), from its /health; None when its
    /health could not be read (then nobody can say it is not broken)."""
    try:
        bugs = httpx.get(f"{base_url}/health", timeout=READ_TIMEOUT).json().get("bugs")
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return [str(bug) for bug in bugs] if isinstance(bugs, list) else []


def deliberate_bugs(info: StackInfo) -> dict[str, list[str] | None]:
    """Component -> the bugs it runs with on purpose (`--bug`, X402_*_BUGS), from its /health;
    None for a component whose /health did not answer in READ_TIMEOUT."""
    found: dict[str, list[str] | None] = {}
    for name, url in (("facilitator", info.facilitator_url), ("server", info.server_url)):
        bugs = component_bugs(url)
        if bugs is None or bugs:
            found[name] = bugs
    return found


def print_bugs(console: Console, bugs: dict[str, list[str] | None]) -> None:
    """Loud, so that nobody mistakes a deliberately broken stack for a working one."""
    for name, names in bugs.items():
        if names is None:
            console.print(
                f"[yellow]could not read the {name}'s /health within {READ_TIMEOUT:g} s:[/] "
                "whether it runs with deliberate bugs (--bug) is unknown"
            )
            continue
        console.print(
            f"[bold red]DELIBERATELY BROKEN:[/] the {name} runs with --bug {', '.join(names)} "
            "(X402_FACILITATOR_BUGS / X402_SERVER_BUGS): it accepts what it must refuse"
        )


def server_warnings(base_url: str) -> list[str]:
    """What the paid server's /health warns of (memo binding off); [] when it cannot say."""
    try:
        warnings = httpx.get(f"{base_url}/health", timeout=READ_TIMEOUT).json().get("warnings")
    except (httpx.HTTPError, ValueError, AttributeError):
        return []
    return [str(text) for text in warnings] if isinstance(warnings, list) else []


def print_up(console: Console, info: StackInfo) -> None:
    console.print(f"[bold green]x402 sandbox is up[/] (ready in {info.ready_seconds:.1f}s)\n")
    print_bugs(console, deliberate_bugs(info))
    for warning in server_warnings(info.server_url):
        console.print(f"[yellow]paid server:[/] {escape(warning)}", highlight=False)
    services = Table(title="Services", title_justify="left")
    services.add_column("component")
    services.add_column("URL")
    services.add_column("pid", justify="right")
    services.add_row("chain (JSON-RPC)", info.rpc_url, str(info.pids.get("chain", "")))
    services.add_row("chain (PubSub)", info.ws_url, "")
    services.add_row("facilitator", info.facilitator_url, str(info.pids.get("facilitator", "")))
    services.add_row("paid server", info.server_url, str(info.pids.get("server", "")))
    if info.dashboard_url:
        services.add_row("dashboard", info.dashboard_url, str(info.pids.get("dashboard", "")))
    console.print(services)
    console.print(f"network  {info.network} (v1: {info.network_v1}), a devnet twin")
    console.print(f"USDC     {info.usdc_mint} (6 decimals)")
    console.print(
        f"PYUSD    {PYUSD_DEVNET_MINT} (Token-2022, 6 decimals; payers hold as much as of USDC; "
        "/api/premium-content-pyusd)\n"
    )
    console.print(wallet_table(info.wallets))
    console.print(
        f"\nState, keys and logs: {info.home}  (source {info.home}/stack.env for the URLs)"
    )
    examples = next_steps(info)
    # Comments line up after the short commands; a long one just runs past the column.
    width = min(max(len(command) for command, _ in examples), 52)
    console.print("\nTry:")
    for command, what in examples:
        comment = f"  # {what}" if what else ""
        # Copied as typed: no markup, no highlighting, no line breaks inserted in long commands.
        line = f"  {command.ljust(width)}{comment}".rstrip()
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def recent_settlements(
    facilitator_url: str, admin_token: str | None = None, limit: int = 5
) -> list[dict[str, Any]]:
    try:
        answer = httpx.get(
            f"{facilitator_url}/_sandbox/settlements",
            headers=admin_headers(admin_token),
            timeout=READ_TIMEOUT,
        )
        items = answer.json()
    except (httpx.HTTPError, ValueError):
        return []
    if isinstance(items, dict):
        items = items.get("settlements", [])
    return items[-limit:] if isinstance(items, list) else []


def ledger_settlements(ledger: Path, limit: int = 5) -> list[dict[str, Any]]:
    """The latest rows of the facilitator's settlement ledger file, read-only.

    The facilitator lists only what it settled since it started; after `down` and `up` the
    ledger still holds the earlier settlements (it is what refuses their replays).
    """
    if not ledger.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"{ledger.as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute(
                "SELECT created_at, state, error, payer, amount, network, signature "
                "FROM settlements ORDER BY created_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
    except sqlite3.Error:
        return []
    return [
        {
            "time": created_at,
            "success": state == "settled",
            "status": state,
            "reason": error or "",
            "payer": payer,
            "amount": amount,
            "network": network,
            "transaction": signature,
        }
        for created_at, state, error, payer, amount, network, signature in reversed(rows)
    ]


def print_status(
    console: Console,
    info: StackInfo,
    alive: dict[str, int],
    health: dict[str, bool],
    wallets: list[Wallet],
    settlements: list[dict[str, Any]],
    reused: dict[str, int] | None = None,
) -> None:
    reused = reused or {}
    table = Table(title=f"Sandbox in {info.home}", title_justify="left")
    table.add_column("component")
    table.add_column("URL")
    table.add_column("pid", justify="right")
    table.add_column("state")
    urls = {"chain": info.rpc_url, "facilitator": info.facilitator_url, "server": info.server_url}
    if info.dashboard_url:
        urls["dashboard"] = info.dashboard_url
    for name, url in urls.items():
        pid = info.pids.get(name)
        if name in reused:
            # Ours died (a crash, a reboot) and the pid went to another program; whatever
            # answers the URL is not the process `up` started.
            state = f"[red]stopped[/] (pid {pid} now belongs to another program)"
        elif health.get(name) and (name in alive or not info.pids):
            # No recorded pid: started by someone else (docker compose); health is the truth.
            state = "[green]healthy[/]"
        elif name in alive:
            state = "[yellow]running, not answering[/]"
        else:
            state = "[red]stopped[/]"
        table.add_row(name, url, str(pid or "-"), state)
    console.print(table)
    print_bugs(console, deliberate_bugs(info))
    if wallets:
        console.print(wallet_table(wallets))
    if settlements:
        recent = Table(title="Recent settlements", title_justify="left")
        for column in ("payer", "amount", "transaction", "outcome"):
            recent.add_column(column)
        for item in settlements:
            outcome = item.get("reason") or item.get("status") or ""
            if outcome == "settled":
                outcome = "ok"
            recent.add_row(
                str(item.get("payer", "")),
                str(item.get("amount", "")),
                str(item.get("transaction") or item.get("signature") or ""),
                str(outcome or ("ok" if item.get("success") else "")),
            )
        console.print(recent)
    if not any(health.values()):
        console.print("The sandbox is stopped. Start it with `make up`.")
