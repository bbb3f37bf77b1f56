"""`x402-sandbox`: one command line for the whole sandbox.

Each component owns its flags in `sandbox/<component>/cli.py` (a `main(argv)` function); this
module only dispatches, so `x402-sandbox --help` stays fast and imports nothing heavy.
"""

from __future__ import annotations

import importlib
import sys

# command -> (module with main(argv), one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("sandbox.orchestration.cli", "Start chain, facilitator and server; fund wallets."),
    "down": ("sandbox.orchestration.cli", "Stop the processes `up` started."),
    "status": ("sandbox.orchestration.cli", "Show each component, balances, settlements."),
    "logs": ("sandbox.orchestration.cli", "Show a component's log."),
    "fund": ("sandbox.orchestration.cli", "Give SOL and USDC to a wallet of yours."),
    "chain": (
        "sandbox.orchestration.chain_command",
        "Run the embedded Solana devnet (JSON-RPC + PubSub).",
    ),
    "facilitator": ("sandbox.facilitator.cli", "Run the x402 facilitator."),
    "server": ("sandbox.server.cli", "Run the sample paid FastAPI server."),
    "pay": ("sandbox.payer.cli", "Pay one request and show each step."),
    "listen": ("sandbox.listen", "Every payment event of server and facilitator, live."),
    "scenarios": ("sandbox.scenario_runner.cli", "Run the end-to-end scenarios."),
    "loadtest": ("sandbox.loadtest.cli", "Run a Locust load profile headless."),
    "check-client": (
        "sandbox.check_client.cli",
        "Put an x402 client through hostile servers; judge it from server and chain.",
    ),
}

USAGE = """usage: x402-sandbox COMMAND [ARGS]...

A local Solana devnet sandbox and load-testing harness for x402.

commands:
{commands}

Run `x402-sandbox COMMAND --help` for a command's flags.
"""


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return USAGE.format(commands="\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if args[0] in ("--version", "-V"):
        from sandbox import __version__

        print(f"x402-sandbox {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"x402-sandbox: unknown command {name!r}\n", file=sys.stderr)
        print(usage(), file=sys.stderr)
        return 2
    module_name, _ = COMMANDS[name]
    module = importlib.import_module(module_name)
    # Orchestration commands share one module; the others take argv directly.
    if module_name == "sandbox.orchestration.cli":
        return int(module.main([name, *rest]) or 0)
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
