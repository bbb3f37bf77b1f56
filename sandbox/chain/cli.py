"""`python -m sandbox.chain`: flags -> ChainSettings -> run the LiteSVM chain.

`x402-sandbox chain` is these flags plus `--validator` (sandbox/orchestration/chain_command.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from sandbox.http_limits import add_header_timeout_flag

from .settings import MANUAL, USDC_MINT_CHOICES, ChainSettings, FaultSettings, resolve_usdc_mint

__all__ = ["build_parser", "configure", "main", "settings_from_args"]


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1")
    return value


def _slot_ms(text: str) -> int | None:
    """`--slot-ms`: milliseconds (0: a block per transaction), or `manual` (None)."""
    if text.strip().lower() == MANUAL:
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a number of milliseconds nor {MANUAL}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError("--slot-ms must be >= 0")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be >= 0")
    return value


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"X402_SANDBOX_CHAIN_{name}", default)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="x402-sandbox chain",
        description="A local Solana devnet twin: JSON-RPC + PubSub over an in-process LiteSVM.",
    )
    p.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(_env("PORT", "8899")))
    p.add_argument("--ws-port", type=int, default=None, help="PubSub port (default: port + 1)")
    p.add_argument(
        "--slot-ms",
        type=_slot_ms,
        default=_env("SLOT_MS", "400"),  # a string default goes through _slot_ms too
        help="block time; 0 closes a block after every transaction, manual closes blocks only "
        "on sandbox_advanceSlots",
    )
    p.add_argument(
        "--finalize-slots",
        type=int,
        default=1,
        help="closed blocks after which a transaction is finalized",
    )
    p.add_argument(
        "--usdc-mint",
        default=_env("USDC_MINT"),
        help=f"where the test USDC mint lives: {USDC_MINT_CHOICES} (default: devnet)",
    )
    p.add_argument(
        "--state", type=Path, default=None, help="state file: loaded at start, saved on shutdown"
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=_env("STATE_DIR"),
        help="folder of sandbox_saveState/loadState snapshots (DIR/snapshots/NAME.json); "
        "default: the --state file's folder",
    )
    p.add_argument("--fresh", action="store_true", help="ignore the state file at start")
    p.add_argument("--no-cheats", action="store_true", help="switch the sandbox_* methods off")
    p.add_argument(
        "--admin-token",
        default=_env("ADMIN_TOKEN"),
        help="the token for cheat codes (`Authorization: Bearer TOKEN`): always needed from "
        "beyond loopback, from loopback too with --require-admin-token",
    )
    p.add_argument(
        "--require-admin-token",
        action="store_true",
        default=_env("REQUIRE_ADMIN_TOKEN", "") in ("1", "true", "yes"),
        help="cheat codes need the admin token from loopback callers too",
    )
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin (http://host:port) whose pages may call cheat codes; repeatable",
    )
    add_header_timeout_flag(p)
    p.add_argument("--no-sigverify", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--fault-latency-ms", type=_non_negative, default=0.0)
    p.add_argument("--fault-drop-rate", type=_rate, default=0.0)
    p.add_argument("--fault-late-confirm-ms", type=_non_negative, default=0.0)
    p.add_argument("--fault-error-rate", type=_rate, default=0.0)
    p.add_argument("--log-level", default="INFO")
    return p


def settings_from_args(args: argparse.Namespace) -> ChainSettings:
    from sandbox.protocol.networks import USDC_DEVNET_MINT

    extra = {}
    if args.usdc_mint:
        extra["usdc_mint"] = resolve_usdc_mint(args.usdc_mint)
    return ChainSettings(
        host=args.host,
        port=args.port,
        ws_port=args.ws_port,
        slot_ms=args.slot_ms,
        finalize_slots=args.finalize_slots,
        usdc_mint=extra.get("usdc_mint", USDC_DEVNET_MINT),
        state_file=args.state,
        state_dir=Path(args.state_dir) if args.state_dir else None,
        fresh=args.fresh,
        cheats=not args.no_cheats,
        admin_token=args.admin_token,
        require_admin_token=args.require_admin_token,
        allow_origins=tuple(args.allow_origin),
        header_timeout=args.header_timeout,
        sigverify=not args.no_sigverify,
        faults=FaultSettings(
            latency_ms=args.fault_latency_ms,
            drop_rate=args.fault_drop_rate,
            late_confirm_ms=args.fault_late_confirm_ms,
            error_rate=args.fault_error_rate,
        ),
    )


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.finalize_slots < 0:
        parser.error("--finalize-slots must be >= 0")
    if not 0 < args.port < 65536:
        parser.error("--port must be 1..65535")
    if args.usdc_mint:
        try:
            args.usdc_mint = resolve_usdc_mint(args.usdc_mint)  # `new` is drawn once, here
        except ValueError as exc:
            parser.error(str(exc))


def configure(parser: argparse.ArgumentParser, args: argparse.Namespace) -> ChainSettings:
    """Check the parsed flags (exits with argparse's message on a bad one), set up logging and
    return the settings. `x402-sandbox chain` (sandbox/orchestration/chain_command.py) calls this
    with this parser plus its `--validator` flag."""
    _validate(parser, args)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return settings_from_args(args)


def main(argv: list[str] | None = None) -> int:
    """`python -m sandbox.chain`: the LiteSVM chain (what `up` starts)."""
    started = time.perf_counter()
    parser = build_parser()
    settings = configure(parser, parser.parse_args(argv))
    from .app import run_chain

    return run_chain(settings, started)


if __name__ == "__main__":
    sys.exit(main())
