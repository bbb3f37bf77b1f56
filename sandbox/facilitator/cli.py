"""`x402-sandbox facilitator` / `python -m sandbox.facilitator`: run the x402 facilitator.

Flags over environment (X402_SANDBOX_FACILITATOR_*) over defaults. The network is learned from
the chain (getGenesisHash), never configured.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sandbox.facilitator.bugs import BUGS, parse_bugs
from sandbox.facilitator.faults import KINDS, FaultError, parse_fault_flag
from sandbox.facilitator.ledger import DEFAULT_MEMORY_ROWS
from sandbox.facilitator.settings import (
    DEFAULT_LEDGER,
    DEFAULT_MAX_COMPUTE_UNIT_PRICE,
    DEFAULT_PAYER_COOLDOWN_S,
    KeypairFileError,
    Settings,
    load_keypair,
)
from sandbox.http_limits import add_header_timeout_flag, limited_protocol, raise_open_file_limit
from sandbox.protocol.exact_svm.facilitator import DEFAULT_MAX_COMPUTE_UNIT_LIMIT

__all__ = ["build_parser", "main", "settings_from_args"]

ENV = "X402_SANDBOX_FACILITATOR_"


def _env(name: str, default=None):
    return os.environ.get(ENV + name, default)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="x402-sandbox facilitator",
        description="Run the x402 facilitator (exact scheme on Solana) against a chain.",
    )
    p.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(_env("PORT", "4022")))
    p.add_argument("--rpc-url", default=_env("RPC_URL", "http://127.0.0.1:8899"))
    p.add_argument("--ws-url", default=_env("WS_URL"), help="PubSub URL (default: RPC port + 1)")
    p.add_argument(
        "--fee-payer-keypair",
        action="append",
        default=[],
        metavar="FILE",
        help="fee payer keypair, Solana CLI JSON (repeatable; several keys share the load)",
    )
    p.add_argument("--ledger", default=_env("LEDGER", str(DEFAULT_LEDGER)), metavar="FILE")
    p.add_argument("--fresh-ledger", action="store_true", help="delete the ledger file first")
    p.add_argument(
        "--commitment",
        choices=("processed", "confirmed", "finalized"),
        default=_env("COMMITMENT", "confirmed"),
    )
    p.add_argument(
        "--amount-policy", choices=("exact", "at-least"), default=_env("AMOUNT_POLICY", "exact")
    )
    p.add_argument("--max-compute-units", type=int, default=DEFAULT_MAX_COMPUTE_UNIT_LIMIT)
    p.add_argument(
        "--max-compute-unit-price",
        type=int,
        default=int(_env("MAX_COMPUTE_UNIT_PRICE", DEFAULT_MAX_COMPUTE_UNIT_PRICE)),
        help="microlamports per compute unit, at most (default %(default)s; the scheme allows "
        "5,000,000): what one failed transaction can cost the fee payer",
    )
    p.add_argument(
        "--payer-cooldown-s",
        type=float,
        default=float(_env("PAYER_COOLDOWN_S", DEFAULT_PAYER_COOLDOWN_S)),
        help="a payer whose settlement failed on chain is refused (payer_temporarily_refused) "
        "for this many seconds (default %(default)s; 0: never)",
    )
    p.add_argument(
        "--ledger-memory-rows",
        type=int,
        default=int(_env("LEDGER_MEMORY_ROWS", DEFAULT_MEMORY_ROWS)),
        help="settled and failed ledger rows kept in memory (default %(default)s); older ones "
        "are read from the ledger file",
    )
    p.add_argument("--max-instructions", type=int, default=7, help="6 is the Python SDK's limit")
    p.add_argument(
        "--layout",
        choices=("positional", "role-based"),
        default=_env("LAYOUT", "positional"),
        help="instruction layout: positional (default; the spec text and the published SDKs) or "
        "role-based (the reference verifier's main branch: by role, Lighthouse anywhere)",
    )
    p.add_argument(
        "--preflight-allow",
        action="append",
        default=[],
        metavar="PROGRAM",
        help="role-based: a program whose instructions may come before the payment, in one "
        "block, none using the fee payer (repeatable)",
    )
    p.add_argument(
        "--postflight-allow",
        action="append",
        default=[],
        metavar="PROGRAM",
        help="role-based: a program whose instructions may come after the payment (repeatable)",
    )
    p.add_argument(
        "--allow-create-ata",
        action="store_true",
        default=bool(_env("ALLOW_CREATE_ATA")),
        help="role-based: accept a CreateAssociatedTokenIdempotent of payTo's token account "
        "before the transfer, its rent paid by the fee payer (every account pinned)",
    )
    p.add_argument(
        "--max-created-accounts-per-minute",
        type=int,
        default=int(_env("MAX_CREATED_ACCOUNTS_PER_MINUTE") or 60),
        metavar="N",
        help="with --allow-create-ata: the fee payer funds at most N new token accounts a minute "
        "(create_ata_refused beyond; 0: no limit), and never one it funded before (default 60)",
    )
    p.add_argument(
        "--settle-status",
        action="store_true",
        default=bool(_env("SETTLE_STATUS")),
        help="settle answers carry `status` and `statusAnchor` (finality, observedAt): fields of "
        "an open proposal for the v2 settle answer, so off by default",
    )
    p.add_argument(
        "--confirm-timeout",
        type=float,
        default=8.0,
        help="seconds to wait for the commitment before answering settlement_pending",
    )
    p.add_argument("--rpc-timeout", type=float, default=10.0)
    p.add_argument("--no-rpc-batching", action="store_true", help="one HTTP request per RPC call")
    p.add_argument("--max-body-bytes", type=int, default=64 * 1024)
    p.add_argument(
        "--admin-token",
        default=_env("ADMIN_TOKEN"),
        help="token for /_sandbox/* (Authorization: Bearer TOKEN); required beyond loopback",
    )
    p.add_argument(
        "--require-admin-token",
        action="store_true",
        default=bool(_env("REQUIRE_ADMIN_TOKEN")),
        help="require the admin token from loopback callers too",
    )
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web page origin (besides this service's own) that may call /_sandbox/*",
    )
    add_header_timeout_flag(p)
    p.add_argument(
        "--event-feed",
        choices=("on", "off"),
        default=_env("EVENT_FEED", "on"),
        help="on (default): every verify and settle at GET /_sandbox/events; off: none published",
    )
    p.add_argument(
        "--low-balance-sol", type=float, default=0.05, help="/health warns below this balance"
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="ENDPOINT:KIND[:key=value...]",
        help=f"inject a fault; kinds: {', '.join(KINDS)}; e.g. settle:pending:rate=0.5, "
        "verify:latency:ms=200:distribution=exponential",
    )
    p.add_argument(
        "--bug",
        action="append",
        default=[],
        metavar="NAME",
        help="FOR TESTING TESTS: switch off one defence on purpose (repeatable; also "
        f"X402_FACILITATOR_BUGS); one of: {', '.join(BUGS)}",
    )
    p.add_argument("--log-level", default=_env("LOG_LEVEL", "info"))
    return p


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Raises ValueError (with a message for the user) on a bad flag."""
    keyfiles = args.fee_payer_keypair or (
        [_env("FEE_PAYER_KEYPAIR")] if _env("FEE_PAYER_KEYPAIR") else []
    )
    if not keyfiles:
        raise ValueError("at least one --fee-payer-keypair FILE is required")
    keys = tuple(load_keypair(path) for path in keyfiles)
    if len({kp.pubkey() for kp in keys}) != len(keys):
        raise ValueError("the same fee payer keypair was given twice")
    faults = tuple(parse_fault_flag(text) for text in args.fault)
    if args.max_body_bytes < 1024:
        raise ValueError("--max-body-bytes must be at least 1024")
    if args.max_compute_unit_price < 0:
        raise ValueError("--max-compute-unit-price must be at least 0")
    if not args.payer_cooldown_s >= 0:  # NaN too
        raise ValueError("--payer-cooldown-s must be at least 0")
    if args.max_created_accounts_per_minute < 0:
        raise ValueError("--max-created-accounts-per-minute must be at least 0")
    if args.ledger_memory_rows < 1:
        raise ValueError("--ledger-memory-rows must be at least 1")
    if args.require_admin_token and not args.admin_token:
        raise ValueError("--require-admin-token needs --admin-token TOKEN")
    return Settings(
        rpc_url=args.rpc_url,
        ws_url=args.ws_url,
        fee_payers=keys,
        ledger_path=Path(args.ledger),
        commitment=args.commitment,
        amount_policy=args.amount_policy,
        max_compute_unit_limit=args.max_compute_units,
        max_compute_unit_price=args.max_compute_unit_price,
        max_instructions=args.max_instructions,
        confirm_timeout=args.confirm_timeout,
        rpc_timeout=args.rpc_timeout,
        rpc_batching=not args.no_rpc_batching,
        max_body_bytes=args.max_body_bytes,
        admin_token=args.admin_token or None,
        require_admin_token=args.require_admin_token,
        allowed_origins=tuple(args.allow_origin),
        host=args.host,
        port=args.port,
        low_balance_lamports=int(args.low_balance_sol * 1e9),
        event_feed=args.event_feed == "on",
        faults=faults,
        bugs=parse_bugs(args.bug),
        payer_cooldown_s=args.payer_cooldown_s,
        ledger_memory_rows=args.ledger_memory_rows,
        layout=args.layout,
        preflight_allow=tuple(args.preflight_allow),
        postflight_allow=tuple(args.postflight_allow),
        allow_create_ata=args.allow_create_ata,
        max_created_accounts_per_minute=args.max_created_accounts_per_minute,
        settle_status=args.settle_status,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = settings_from_args(args)
    except (KeypairFileError, FaultError, ValueError) as exc:
        print(f"x402-sandbox facilitator: {exc}", file=sys.stderr)
        return 2
    if args.fresh_ledger:
        for suffix in ("", "-wal", "-shm"):
            Path(str(settings.ledger_path) + suffix).unlink(missing_ok=True)

    import uvicorn

    from sandbox.facilitator.app import create_app

    if settings.bugs:
        logging.getLogger("sandbox.facilitator").warning(
            "DELIBERATELY BROKEN (--bug): %s", ", ".join(sorted(settings.bugs))
        )
    raise_open_file_limit()
    app = create_app(settings)
    payers = ", ".join(str(kp.pubkey()) for kp in settings.fee_payers)
    print(
        f"facilitator on http://{args.host}:{args.port} (chain {settings.rpc_url}, "
        f"fee payers {payers}, ledger {settings.ledger_path})",
        flush=True,
    )
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http=limited_protocol(args.header_timeout),
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=3,
        backlog=2048,
    )
    try:
        uvicorn.Server(config).run()
    except OSError as exc:
        print(f"x402-sandbox facilitator: cannot serve on {args.host}:{args.port}: {exc}")
        return 1
    return 0
