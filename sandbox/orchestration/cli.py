"""`x402-sandbox up | down | status | logs | fund`: the local stack from the command line."""

from __future__ import annotations

import contextlib
import enum
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from solders.pubkey import Pubkey

from sandbox.console import make_console
from sandbox.orchestration import summary
from sandbox.orchestration.rpc import ChainRpc, RpcError
from sandbox.orchestration.stack import (
    NOT_OURS,
    STOPPED,
    StackConfig,
    StackError,
    StackPaths,
    read_admin_token,
    read_stack,
    reused_pids,
    running_pids,
    start_stack,
    stop_stack,
)
from sandbox.orchestration.wallets import read_wallets
from sandbox.processes import http_ok
from sandbox.protocol import associated_token_address

# Plain help: Rich's help tables cut long flag names at 80 columns ("--facilitator-po…").
app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="The x402 local stack.", rich_markup_mode=None
)
err = make_console(stderr=True)
out = make_console()

Home = Annotated[
    Path,
    typer.Option("--home", envvar="X402_SANDBOX_HOME", help="Folder for keys, state and logs."),
]
COMPONENTS = ("chain", "facilitator", "server", "dashboard")


class RouteBinding(enum.StrEnum):
    memo = "memo"
    none = "none"


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@app.command()
def up(
    home: Home = Path(".sandbox"),
    host: Annotated[str, typer.Option(envvar="X402_SANDBOX_HOST")] = "127.0.0.1",
    rpc_port: Annotated[int, typer.Option(envvar="X402_SANDBOX_RPC_PORT")] = 8899,
    facilitator_port: Annotated[int, typer.Option(envvar="X402_SANDBOX_FACILITATOR_PORT")] = 4022,
    server_port: Annotated[int, typer.Option(envvar="X402_SANDBOX_SERVER_PORT")] = 4021,
    dashboard_port: Annotated[
        int, typer.Option(envvar="X402_SANDBOX_DASHBOARD_PORT", help="Web dashboard; 0 = none.")
    ] = 4020,
    slot_ms: Annotated[
        int, typer.Option(envvar="X402_SANDBOX_SLOT_MS", help="Slot time; 0 = block per tx.")
    ] = 400,
    usdc_mint: Annotated[
        str | None, typer.Option(envvar="X402_SANDBOX_USDC_MINT", help="Default: devnet USDC.")
    ] = None,
    payers: Annotated[int, typer.Option(min=0, help="Number of funded payer wallets.")] = 10,
    payer_sol: Annotated[float, typer.Option(min=0, help="SOL per payer.")] = 1.0,
    payer_usdc: Annotated[float, typer.Option(min=0, help="USDC per payer.")] = 100.0,
    fee_payers: Annotated[int, typer.Option(min=1, help="Facilitator fee-payer keys.")] = 1,
    fee_payer_sol: Annotated[float, typer.Option(min=0, help="SOL per fee payer.")] = 100.0,
    fresh: Annotated[bool, typer.Option(help="Forget wallets, chain state and ledger.")] = False,
    admin_token: Annotated[
        str | None,
        typer.Option(help="Token for cheat codes and admin endpoints (default: one per home)."),
    ] = None,
    require_admin_token: Annotated[
        bool, typer.Option(help="Require the token from loopback callers too.")
    ] = False,
    chain_fault_latency_ms: Annotated[int, typer.Option(help="Chain fault: RPC latency.")] = 0,
    chain_fault_drop_rate: Annotated[float, typer.Option(help="Chain fault: dropped tx.")] = 0.0,
    chain_fault_error_rate: Annotated[float, typer.Option(help="Chain fault: RPC errors.")] = 0.0,
    chain_arg: Annotated[list[str], typer.Option(help="Extra flag for the chain.")] = [],  # noqa: B006
    facilitator_arg: Annotated[
        list[str], typer.Option(help="Extra flag for the facilitator, e.g. a fault.")
    ] = [],  # noqa: B006
    server_arg: Annotated[list[str], typer.Option(help="Extra flag for the server.")] = [],  # noqa: B006
    route_binding: Annotated[
        RouteBinding,
        typer.Option(
            envvar="X402_SANDBOX_ROUTE_BINDING",
            help="memo: every 402 carries extra.memo bound to its route; none: no memo, for "
            "clients that do not copy extra.memo.",
        ),
    ] = RouteBinding.memo,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Start chain, facilitator and server, fund wallets, print where everything is."""
    faults = {
        "latencyMs": chain_fault_latency_ms,
        "dropRate": chain_fault_drop_rate,
        "errorRate": chain_fault_error_rate,
    }
    config = StackConfig(
        home=home, host=host, rpc_port=rpc_port, facilitator_port=facilitator_port,
        server_port=server_port, dashboard_port=dashboard_port, slot_ms=slot_ms,
        usdc_mint=usdc_mint, payers=payers, payer_sol=payer_sol, payer_usdc=payer_usdc,
        fee_payers=fee_payers,
        fee_payer_sol=fee_payer_sol, fresh=fresh, admin_token=admin_token,
        require_admin_token=require_admin_token,
        chain_faults=tuple((name, value) for name, value in faults.items() if value),
        chain_args=tuple(chain_arg),
        facilitator_args=tuple(facilitator_arg), server_args=tuple(server_arg),
        route_binding=route_binding.value,
    )  # fmt: skip
    try:
        if as_json:
            info = start_stack(config)
        else:
            with err.status("starting the sandbox...") as status:
                info = start_stack(config, progress=lambda msg: status.update(f"{msg}..."))
    except StackError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(info.to_json(), indent=2))
    else:
        summary.print_up(out, info)


@app.command()
def down(
    home: Home = Path(".sandbox"),
    purge: Annotated[bool, typer.Option(help="Also forget wallets, chain state, ledger.")] = False,
) -> None:
    """Stop exactly the processes `up` started (by recorded pid, start time and command line)."""
    info = read_stack(StackPaths(home))
    stopped = stop_stack(home, purge_state=purge)
    if STOPPED not in stopped.values():
        out.print("No sandbox process was running.")
    for name, outcome in stopped.items():
        if outcome == STOPPED:
            out.print(f"stopped {name}")
        elif outcome == NOT_OURS and info is not None:
            out.print(
                f"{name} was not running: its recorded pid {info.pids.get(name)} now belongs "
                f"to another program, left alone"
            )
    if purge:
        out.print(f"purged wallets, chain state and ledger in {StackPaths(home).home}")
    else:
        out.print("State kept: `x402-sandbox up` resumes with the same wallets and balances.")


@app.command()
def status(
    home: Home = Path(".sandbox"),
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Each component, its health, balances and recent settlements."""
    paths = StackPaths(home)
    info = read_stack(paths)
    if info is None:
        _fail(f"no sandbox has been started from {paths.home}; run `make up` first.")
    alive = running_pids(info)
    reused = reused_pids(info)
    health = {
        "chain": http_ok(f"{info.rpc_url}/health"),
        "facilitator": http_ok(f"{info.facilitator_url}/health"),
        "server": http_ok(f"{info.server_url}/health"),
    }
    if info.dashboard_url:
        health["dashboard"] = http_ok(f"{info.dashboard_url}/health")
    wallets = []
    settlements: list = []
    token = read_admin_token(paths)
    if health["chain"]:
        rpc = ChainRpc(info.rpc_url, admin_token=token)
        try:
            wanted = {w.name: w for w in info.wallets if not w.name.startswith("payer-")}
            wanted.update({w.name: w for w in info.wallets if w.name == "payer-0"})
            mint = Pubkey.from_string(info.usdc_mint)
            wallets = read_wallets(
                rpc,
                {
                    n: (
                        w.address,
                        w.keypair_file,
                        str(associated_token_address(Pubkey.from_string(w.address), mint)),
                    )
                    for n, w in wanted.items()
                },
            )
        except (RpcError, OSError) as exc:
            err.print(f"could not read balances: {exc}")
        finally:
            rpc.close()
    if health["facilitator"]:
        settlements = summary.recent_settlements(info.facilitator_url, token)
    if not settlements:  # restarted since, or stopped: the ledger file remembers
        settlements = summary.ledger_settlements(paths.ledger)
    if as_json:
        data = {
            "components": {
                n: {
                    "pid": info.pids.get(n),
                    "running": n in alive,
                    "healthy": health[n],
                    "pid_reused": n in reused,
                }
                for n in COMPONENTS
                if n in health
            },
            "wallets": [w.__dict__ for w in wallets],
            "settlements": settlements,
            "bugs": summary.deliberate_bugs(info),
        }
        print(json.dumps(data, indent=2))
        return
    summary.print_status(out, info, alive, health, wallets, settlements, reused)
    if not any(health.values()):
        raise typer.Exit(3)


@app.command()
def logs(
    component: Annotated[
        str | None, typer.Argument(help="chain, facilitator, server or dashboard")
    ] = None,
    home: Home = Path(".sandbox"),
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n")] = 40,
) -> None:
    """Show the last lines of a component's log (all of them when none is named)."""
    paths = StackPaths(home)
    names = [component] if component else list(COMPONENTS)
    for name in names:
        if name not in COMPONENTS:
            _fail(f"unknown component {name!r}: choose {', '.join(COMPONENTS)}")
    if not component:  # a stack started without a dashboard has no dashboard.log
        names = [n for n in names if n != "dashboard" or paths.log(n).exists()]
    files = [paths.log(n) for n in names]
    missing = [str(f) for f in files if not f.exists()]
    if len(missing) == len(files):
        _fail(f"no logs in {paths.logs}; has `make up` run?")
    if follow:
        cmd = ["tail", "-n", str(lines), "-F", *[str(f) for f in files]]
        with contextlib.suppress(KeyboardInterrupt):
            subprocess.run(cmd, check=False)
        return
    for path in files:
        if path.exists():
            out.rule(path.name)
            text = path.read_text(errors="replace").splitlines()[-lines:]
            sys.stdout.write("\n".join(text) + "\n")


@app.command()
def fund(
    wallet: Annotated[str, typer.Argument(help="Wallet address (base58) to fund.")],
    home: Home = Path(".sandbox"),
    usdc: Annotated[float, typer.Option(min=0, help="USDC to mint to it.")] = 10.0,
    sol: Annotated[float, typer.Option(min=0, help="SOL to airdrop to it.")] = 1.0,
) -> None:
    """Give SOL and test USDC to a wallet of your own."""
    try:
        Pubkey.from_string(wallet)
    except ValueError:
        _fail(f"WALLET {wallet!r} is not a base58 Solana address")
    paths = StackPaths(home)
    info = read_stack(paths)
    rpc_url = os.environ.get("X402_SANDBOX_RPC_URL") or (info.rpc_url if info else None)
    if not rpc_url or not http_ok(f"{rpc_url}/health"):
        _fail("the sandbox chain is not running; start it with `make up`.")
    rpc = ChainRpc(rpc_url, admin_token=read_admin_token(paths))
    try:
        if sol:
            rpc.call("requestAirdrop", wallet, round(sol * 1_000_000_000))
        result = rpc.call("sandbox_mintTo", wallet, round(usdc * 1_000_000))
        balance = rpc.sol_balance(wallet)
    except RpcError as exc:
        _fail(str(exc))
    finally:
        rpc.close()
    out.print(
        f"funded {wallet}: {balance / 1e9:.4f} SOL, "
        f"USDC account {result['tokenAccount']} holds {int(result['amount']) / 1e6:.2f} USDC"
    )


def main(argv: list[str] | None = None) -> int:
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="x402-sandbox", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0
