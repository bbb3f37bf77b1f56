"""`x402-sandbox server` / `python -m sandbox.server`: run the sample paid API.

Flags over environment variables (X402_SANDBOX_*) over defaults.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from sandbox.http_limits import HEADER_TIMEOUT, add_header_timeout_flag
from sandbox.server.bugs import BUGS, parse_bugs

__all__ = ["main"]


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"X402_SANDBOX_{name}", default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="x402-sandbox server",
        description="The sample paid API behind the x402 middleware (v1 and v2).",
    )
    parser.add_argument("--host", default=_env("SERVER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(_env("SERVER_PORT", "4021")))
    parser.add_argument(
        "--facilitator-url", default=_env("FACILITATOR_URL", "http://127.0.0.1:4022")
    )
    parser.add_argument(
        "--pay-to",
        default=_env("PAY_TO"),
        help="merchant wallet (its USDC associated token account must exist)",
    )
    parser.add_argument("--network", default=_env("NETWORK", "solana-devnet"))
    parser.add_argument("--usdc-mint", default=_env("USDC_MINT"))
    parser.add_argument(
        "--facilitator-timeout",
        type=float,
        default=float(_env("FACILITATOR_TIMEOUT", "10")),
        help="seconds to wait for /verify or /settle before answering 504 (default 10)",
    )
    parser.add_argument(
        "--rpc-url",
        default=_env("SERVER_RPC_URL"),
        help="Solana JSON-RPC URL: when given, a settlement is believed only once the chain "
        "shows its transaction confirmed without error",
    )
    parser.add_argument(
        "--memo-secret",
        default=_env("SERVER_MEMO_SECRET"),
        help="secret binding each challenge's memo to its route (default: random per process; "
        "set it to keep outstanding 402s valid across restarts or workers)",
    )
    parser.add_argument(
        "--payment-record",
        default=_env("SERVER_PAYMENT_RECORD"),
        metavar="FILE",
        help="SQLite file of the payments being settled and served (created if missing): a "
        "payment settled while the server was down or crashing is served once on resend "
        "(default: kept in memory, forgotten on restart)",
    )
    parser.add_argument(
        "--route-binding",
        choices=("memo", "none"),
        default=_env("SERVER_ROUTE_BINDING", "memo"),
        help="memo (default): every 402 carries a fresh extra.memo binding the payment to its "
        "route; none: no extra.memo in offers, for clients that do not copy it (v2 payments are "
        "bound by the requirements they echo, v1 ones only by amount, mint and payTo)",
    )
    parser.add_argument(
        "--public-origin",
        default=_env("SERVER_PUBLIC_ORIGIN"),
        metavar="URL",
        help="the origin clients reach this server at (scheme://host:port), which a "
        "sign-in-with-x message must name; never taken from a request's Host header (default: "
        "http://HOST:PORT, 127.0.0.1 for a wildcard host)",
    )
    parser.add_argument(
        "--event-feed",
        choices=("on", "off"),
        default=_env("SERVER_EVENT_FEED", "on"),
        help="on (default): every step of every payment at GET /_sandbox/events; off: nothing "
        "published (what the feed costs, measured by make bench)",
    )
    parser.add_argument(
        "--bug",
        action="append",
        default=[],
        metavar="NAME",
        help="FOR TESTING TESTS: switch off one defence on purpose (repeatable; also "
        "X402_SERVER_BUGS); one of: " + ", ".join(BUGS),
    )
    add_header_timeout_flag(parser)
    parser.add_argument("--log-level", default=_env("SERVER_LOG_LEVEL", "warning"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sandbox.protocol import USDC_DEVNET_MINT
    from sandbox.server.settings import ServerSettings

    if not args.pay_to:
        print("x402-sandbox server: --pay-to WALLET is required", file=sys.stderr)
        return 2
    try:
        settings = ServerSettings(
            pay_to=args.pay_to,
            facilitator_url=args.facilitator_url,
            host=args.host,
            port=args.port,
            network=args.network,
            usdc_mint=args.usdc_mint or USDC_DEVNET_MINT,
            facilitator_timeout=args.facilitator_timeout,
            rpc_url=args.rpc_url,
            memo_secret=args.memo_secret.encode() if args.memo_secret else None,
            payment_record=args.payment_record or None,
            log_level=args.log_level,
            bugs=parse_bugs(args.bug),
            route_binding=args.route_binding,
            event_feed=args.event_feed == "on",
            public_origin=args.public_origin or None,
        )
    except ValueError as exc:
        print(f"x402-sandbox server: {exc}", file=sys.stderr)
        return 2
    return serve(settings, args.header_timeout)


def serve(settings, header_timeout: float = HEADER_TIMEOUT) -> int:
    import uvicorn

    from sandbox.http_limits import limited_protocol, raise_open_file_limit
    from sandbox.server.app import create_app

    raise_open_file_limit()
    level = settings.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.bugs:
        logging.getLogger("sandbox.server").warning(
            "DELIBERATELY BROKEN (--bug): %s", ", ".join(sorted(settings.bugs))
        )
    if settings.route_binding == "none":
        logging.getLogger("sandbox.server").warning(
            "memo binding is off (--route-binding none): offers carry no extra.memo"
        )
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=limited_protocol(header_timeout),
        lifespan="on",
        access_log=False,
        log_level=settings.log_level.lower(),
        backlog=2048,
    )
    print(
        f"x402 sample server on http://{settings.host}:{settings.port} "
        f"(facilitator {settings.facilitator_url}, pay to {settings.pay_to})",
        flush=True,
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
