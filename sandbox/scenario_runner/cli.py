"""`x402-sandbox scenarios [NAME...]`: run the payment stories and report pass/fail."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sandbox.console import make_console
from sandbox.orchestration.stack import StackPaths, read_admin_token, read_stack
from sandbox.orchestration.summary import component_bugs, print_bugs
from sandbox.scenario_runner.context import DEFAULT_PAID_PATH
from sandbox.scenario_runner.runner import (
    Result,
    check_targets,
    discover,
    run,
    to_json,
    to_junit,
)

app = typer.Typer(add_completion=False)


class AmountPolicy(StrEnum):
    exact = "exact"
    at_least = "at-least"


console = make_console()


@app.command()
def scenarios(
    names: Annotated[
        list[str] | None, typer.Argument(help="Scenarios to run (default: all).")
    ] = None,
    server: Annotated[
        str | None, typer.Option(help="Paid server URL (default: the sandbox's).")
    ] = None,
    facilitator: Annotated[str | None, typer.Option(help="Facilitator URL.")] = None,
    rpc: Annotated[str | None, typer.Option(help="Solana JSON-RPC URL.")] = None,
    path: Annotated[
        str,
        typer.Option(
            "--path", help="The server's paid route the stories buy (a path with query, if any)."
        ),
    ] = DEFAULT_PAID_PATH,
    keypair: Annotated[
        list[Path], typer.Option(help="Funded payer keypair, for chains without cheat codes.")
    ] = [],  # noqa: B006
    amount_policy: Annotated[
        AmountPolicy | None,
        typer.Option(
            help="The facilitator's amount policy, for one that does not report it in /health "
            "(amountPolicy); the overpay story checks it."
        ),
    ] = None,
    admin_token: Annotated[str | None, typer.Option(envvar="X402_SANDBOX_ADMIN_TOKEN")] = None,
    home: Annotated[Path, typer.Option(envvar="X402_SANDBOX_HOME")] = Path(".sandbox"),
    junit: Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write a JSON report.")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the scenarios.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds allowed per scenario.")] = 90.0,
) -> None:
    """Run the end-to-end payment stories against the sandbox (or your own targets)."""
    catalogue = discover()
    if list_only:
        table = Table("scenario", "story", "needs", title=f"{len(catalogue)} scenarios")
        for item in catalogue.values():
            table.add_row(item.name, item.story, ", ".join(sorted(item.needs)))
        console.print(table)
        return
    unknown = [n for n in names or [] if n not in catalogue]
    if unknown:
        console.print(f"[red]unknown scenario(s): {', '.join(unknown)}[/]; see --list")
        raise typer.Exit(2)
    selected = [catalogue[n] for n in names] if names else list(catalogue.values())
    if not path.startswith("/"):
        console.print(f"[red]--path {path!r} must be a path on the server, like /api/weather[/]")
        raise typer.Exit(2)

    explicit = bool(server and facilitator and rpc)
    stack = read_stack(StackPaths(home))
    if admin_token is None and stack is not None and not explicit:  # never to foreign targets
        admin_token = read_admin_token(StackPaths(home))
    server = server or (stack.server_url if stack else None)
    facilitator = facilitator or (stack.facilitator_url if stack else None)
    rpc = rpc or (stack.rpc_url if stack else None)
    if not (server and facilitator and rpc):
        console.print(
            "[red]no targets:[/] start the sandbox with `make up`, "
            "or give --server, --facilitator and --rpc"
        )
        raise typer.Exit(2)

    from sandbox.payer import load_keypair
    from sandbox.payer.errors import PayerError

    try:
        keypairs = [load_keypair(file) for file in keypair]
    except (PayerError, OSError, ValueError) as exc:
        console.print(f"[red]--keypair:[/] {exc}")
        raise typer.Exit(2) from None

    def show(result: Result) -> None:
        style = {"passed": "green", "skipped": "yellow", "FAILED": "bold red"}[result.outcome]
        console.print(f"[{style}]{result.outcome:>7}[/] {result.name:<26} {result.seconds:6.2f}s")

    problem = asyncio.run(check_targets(server, path, facilitator, rpc))
    if problem:
        if stack and not explicit:
            problem += " (the targets come from the sandbox's stack.json: is it up? `make up`)"
        console.print(f"[red]error:[/] {problem}", soft_wrap=True)
        raise typer.Exit(2)

    console.print(f"Running {len(selected)} scenarios against {server} (paid route {path})")
    for name, url in (("facilitator", facilitator), ("server", server)):
        # Expected to fail: say so before anyone reads the failures as regressions.
        print_bugs(console, {name: bugs} if (bugs := component_bugs(url)) != [] else {})
    results = asyncio.run(
        run(
            selected,
            server,
            facilitator,
            rpc,
            admin_token,
            keypairs,
            timeout,
            show,
            path,
            amount_policy.value if amount_policy else None,
        )
    )
    table = Table(title="Scenarios")
    for column in ("scenario", "result", "seconds", "detail"):
        table.add_column(column, overflow="fold")
    for r in results:
        table.add_row(r.name, r.outcome, f"{r.seconds:.2f}", r.detail)
    console.print(table)
    failed = [r for r in results if r.failed]
    skipped = [r for r in results if r.skipped]
    passed = len(results) - len(failed) - len(skipped)
    console.print(f"{passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    if json_out:
        json_out.write_text(json.dumps(to_json(results), indent=2))
    if junit:
        junit.write_bytes(to_junit(results))
    if failed:
        raise typer.Exit(1)
    if results and len(skipped) == len(results):
        # Nothing was checked: a green exit here would hide a target that lacks every power.
        console.print(
            "[red]error:[/] every selected scenario was skipped, so nothing was checked "
            "(see the reasons above)",
            soft_wrap=True,
        )
        raise typer.Exit(2)


def main(argv: list[str] | None = None) -> int:
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="x402-sandbox scenarios", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0
