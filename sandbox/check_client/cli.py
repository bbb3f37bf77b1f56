"""`x402-sandbox check-client [CASES...] [flags] -- COMMAND [ARGS...]`: put an x402 client
through the cases and judge it from what reached the server and the chain.

Exit 0: every MUST case passed; 1: a MUST case failed; 2: the stack or COMMAND cannot start.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sandbox.check_client.cases import CASES
from sandbox.check_client.client_run import check_startable
from sandbox.check_client.harness import run_cases
from sandbox.check_client.report import print_report, write_json, write_junit
from sandbox.check_client.report_html import write_html
from sandbox.check_client.target import HarnessError, own_stack, running_stack
from sandbox.console import make_console

__all__ = ["build_parser", "main"]

EPILOG = """\
COMMAND runs once per case with X402_URL (the URL to buy), X402_RPC_URL, X402_KEYPAIR (a freshly
funded payer, Solana CLI JSON) and X402_NETWORK in its environment; {url} {rpc} {keypair}
{network} in its arguments are replaced by the same values. Example:

  x402-sandbox check-client -- .venv/bin/python -m sandbox.payer {url} --keypair {keypair} \\
      --rpc-url {rpc}

cases:
""" + "\n".join(f"  {name:24} {case.level}: {case.must}" for name, case in CASES.items())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="x402-sandbox check-client",
        usage="x402-sandbox check-client [CASES...] [flags] -- COMMAND [ARGS...]",
        description="Run an x402 client against hostile and special-case servers and judge it "
        "from what reached the server and the chain.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("cases", nargs="*", metavar="CASES", help="cases to run (default: all)")
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="seconds per case before the client is killed"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write a JSON report here")
    parser.add_argument(
        "--junit", type=Path, metavar="FILE", help="write a JUnit XML report here (for CI)"
    )
    parser.add_argument(
        "--html", type=Path, metavar="FILE", help="write an HTML page with every case's evidence"
    )
    parser.add_argument(
        "--use-running",
        action="store_true",
        help="use the stack `make up` started (in --home) instead of starting one",
    )
    parser.add_argument(
        "--home", type=Path, default=Path(".sandbox"), help="the running stack's home"
    )
    parser.add_argument(
        "--slot-ms", type=int, default=0, help="slot time of the stack check-client starts"
    )
    parser.add_argument(
        "--route-binding",
        choices=("memo", "none"),
        default="memo",
        help="memo (default): offers carry extra.memo, which the scheme says a client MUST copy; "
        "none: offers without it except in memo-copied, to judge a client that copies no memo on "
        "every other case",
    )
    return parser


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" not in argv:
        return argv, []
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]


def main(argv: list[str] | None = None) -> int:
    own, command = _split(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(own)
    unknown = [name for name in args.cases if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    if args.timeout <= 0:
        parser.error(f"--timeout must be more than 0 seconds, got {args.timeout}")
    if args.slot_ms < 0:
        parser.error(f"--slot-ms must be 0 or more, got {args.slot_ms}")
    console = make_console()
    cases = [CASES[name] for name in args.cases or CASES]
    try:
        check_startable(command)
        target = running_stack(args.home) if args.use_running else own_stack(args.slot_ms)
    except HarnessError as exc:
        print(f"x402-sandbox check-client: {exc}", file=sys.stderr)
        return 2
    where = f"the stack in {target.home}" if not target.owned else "its own stack"
    console.print(f"check-client: {len(cases)} case(s) on {where}: {' '.join(command)}")

    def progress(result) -> None:
        verdict = "pass" if result.passed else "FAIL" if result.case.level == "MUST" else "warn"
        console.print(f"  {result.case.name}: {verdict}", highlight=False)

    try:
        results = asyncio.run(
            run_cases(cases, target, command, args.timeout, progress, args.route_binding)
        )
    except HarnessError as exc:
        print(f"x402-sandbox check-client: {exc}", file=sys.stderr)
        return 2
    finally:
        target.close()
    print_report(results, console, args.route_binding)
    if args.json:
        write_json(args.json, results, command)
    if args.junit:
        write_junit(args.junit, results)
    if args.html:
        write_html(args.html, results, command)
    failed = any(not r.passed and r.case.level == "MUST" for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
