"""`python -m sandbox.dashboard`: serve the dashboard for a running stack.

    python -m sandbox.dashboard --rpc-url http://127.0.0.1:8899 \
        --facilitator-url http://127.0.0.1:4022 --server-url http://127.0.0.1:4021 \
        --usdc-mint MINT --wallet merchant=ADDRESS --wallet payer-0=ADDRESS

The admin token, forwarded to the facilitator and the chain, comes from the environment
(X402_SANDBOX_DASHBOARD_ADMIN_TOKEN), never from argv (world-readable in `ps`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from solders.pubkey import Pubkey

__all__ = ["build_parser", "main"]

TOKEN_ENV = "X402_SANDBOX_DASHBOARD_ADMIN_TOKEN"


def _wallet(text: str) -> tuple[str, str]:
    name, sep, address = text.partition("=")
    try:
        if not sep or not name:
            raise ValueError
        Pubkey.from_string(address)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--wallet wants NAME=ADDRESS with a base58 address, got {text!r}"
        ) from None
    return name, address


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sandbox.dashboard", description=__doc__.split("\n")[0]
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4020)
    p.add_argument("--rpc-url", default="http://127.0.0.1:8899")
    p.add_argument("--facilitator-url", default="http://127.0.0.1:4022")
    p.add_argument("--server-url", default="http://127.0.0.1:4021")
    p.add_argument("--usdc-mint", required=True, help="the mint whose balances are shown as USDC")
    p.add_argument("--wallet", type=_wallet, action="append", default=[], metavar="NAME=ADDRESS",
                   help="a wallet to show (repeatable)")  # fmt: skip
    return p


def main(argv: Sequence[str] | None = None) -> int:
    import uvicorn

    from sandbox.dashboard.app import DashboardSettings, create_app

    args = build_parser().parse_args(argv)
    try:
        Pubkey.from_string(args.usdc_mint)
    except ValueError:
        print(f"error: --usdc-mint {args.usdc_mint!r} is not a base58 address", file=sys.stderr)
        return 2
    settings = DashboardSettings(
        rpc_url=args.rpc_url.rstrip("/"),
        facilitator_url=args.facilitator_url.rstrip("/"),
        server_url=args.server_url.rstrip("/"),
        usdc_mint=args.usdc_mint,
        host=args.host,
        port=args.port,
        wallets=tuple(args.wallet),
        admin_token=os.environ.get(TOKEN_ENV) or None,
    )
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning",
                timeout_graceful_shutdown=2)  # fmt: skip
    return 0
