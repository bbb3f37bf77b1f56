"""`x402-sandbox chain`: the chain's own flags plus `--validator`.

`--validator litesvm` (the default) runs the embedded chain exactly as `python -m sandbox.chain`
does; `--validator agave` runs solana-test-validator with the stack's wallets preloaded
(sandbox/orchestration/agave.py). The choice lives here, not in sandbox/chain, because the agave
genesis needs the stack's wallet layout and the chain package imports nothing of the stack.
"""

from __future__ import annotations

import argparse
import sys
import time

from sandbox.chain import cli as chain_cli

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = chain_cli.build_parser()
    parser.add_argument(
        "--validator",
        choices=("litesvm", "agave"),
        default="litesvm",
        help="agave: run solana-test-validator instead (must be on PATH)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = chain_cli.configure(parser, args)
    if args.validator == "agave":
        from .agave import run_agave

        return run_agave(settings)
    from sandbox.chain.app import run_chain

    return run_chain(settings, started)


if __name__ == "__main__":
    sys.exit(main())
