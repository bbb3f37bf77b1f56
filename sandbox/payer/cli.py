"""`x402-sandbox pay URL` / `python -m sandbox.payer URL`: pay one request, showing each step.

Flags over environment (X402_SANDBOX_PAYER_KEYPAIR, X402_SANDBOX_RPC_URL) over defaults
(.sandbox/keys/payer-0.json, http://127.0.0.1:8899).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import TextIO

import orjson

from sandbox.payer.client import DEFAULT_RPC_URL, X402Client, X402Response
from sandbox.payer.errors import (
    ChallengeError,
    KeypairError,
    MintError,
    NoAcceptablePayment,
    PayerError,
    PaymentBuildError,
    RpcError,
    RpcUnreachable,
    ServerUnreachable,
)
from sandbox.payer.keys import load_keypair
from sandbox.payer.policy import PaymentPolicy
from sandbox.payer.sign_in import report_sign_in
from sandbox.protocol import (
    PYUSD_DEVNET_MINT,
    SOLANA_DEVNET,
    USDC_DEVNET_MINT,
    PaymentRequired,
    PaymentRequirementsV1,
    format_usdc,
    parse_price,
    reasons,
)
from sandbox.protocol.networks import USDC_MAINNET_MINT
from sandbox.protocol.payment_identifier import ID_RULE, valid_payment_id

__all__ = ["main"]

DEFAULT_KEYPAIR = ".sandbox/keys/payer-0.json"
KEYPAIR_ENV = "X402_SANDBOX_PAYER_KEYPAIR"
RPC_ENV = "X402_SANDBOX_RPC_URL"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="x402-sandbox pay",
        description="Pay one x402-protected request with test USDC and show each step.",
    )
    parser.add_argument("url", help="the paid URL, e.g. http://127.0.0.1:4021/api/weather")
    parser.add_argument(
        "--keypair",
        help=f"payer keypair, Solana CLI JSON (default: ${KEYPAIR_ENV}, else {DEFAULT_KEYPAIR})",
    )
    parser.add_argument(
        "--rpc-url", help=f"chain JSON-RPC URL (default: ${RPC_ENV}, else {DEFAULT_RPC_URL})"
    )
    parser.add_argument(
        "--max-amount",
        default="0.05",
        help="refuse to pay more than this many USDC per request (default: 0.05)",
    )
    parser.add_argument(
        "--x402-version",
        type=int,
        choices=(1, 2),
        help="protocol version to pay with (default: v2 when offered, else v1)",
    )
    parser.add_argument(
        "--asset",
        action="append",
        help="mint to accept (repeatable; default: any mint, the price cap still applies)",
    )
    parser.add_argument(
        "--network",
        action="append",
        help="network to pay on (repeatable, v1 name or CAIP-2; default: solana-devnet, the "
        "sandbox's): an offer on another network, mainnet above all, is refused",
    )
    parser.add_argument(
        "--create-ata",
        action="store_true",
        help="create the merchant's token account in the payment (CreateAssociatedTokenIdempotent, "
        "rent paid by the fee payer), for a merchant that has none yet; the facilitator must run "
        "--layout role-based --allow-create-ata",
    )
    ids = parser.add_mutually_exclusive_group()
    ids.add_argument(
        "--payment-id",
        metavar="ID",
        help="send this payment identifier (default: a fresh one wherever the 402 declares the "
        f"payment-identifier extension); {ID_RULE}",
    )
    ids.add_argument(
        "--no-payment-id",
        action="store_true",
        help="send no payment identifier, even where the 402 declares the extension",
    )
    parser.add_argument(
        "--sign-in",
        action="store_true",
        help="sign in with sign-in-with-x instead of paying, where the 402 declares it: opens a "
        "route this wallet has paid for before (never pays)",
    )
    parser.add_argument("--method", default="GET", help="HTTP method (default: GET)")
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    parser.add_argument("-v", "--verbose", action="store_true", help="print decoded messages")
    return parser


def _short(address: str) -> str:
    return f"{address[:4]}..{address[-4:]}" if len(address) > 12 else address


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds is not None else "-"


def _json(data: object) -> str:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()


def _asset_name(mint: str) -> str:
    """USDC, PYUSD, or the mint shortened: what the payment is made in."""
    return {USDC_DEVNET_MINT: "USDC", USDC_MAINNET_MINT: "USDC", PYUSD_DEVNET_MINT: "PYUSD"}.get(
        mint, _short(mint)
    )


def _print_offers(response: X402Response, out: TextIO) -> None:
    challenge = response.challenge
    assert challenge is not None
    where = "PAYMENT-REQUIRED header" if isinstance(challenge, PaymentRequired) else "JSON body"
    print(
        f"<- 402 Payment Required: x402 v{challenge.x402_version} challenge in the {where} "
        f"({_ms(response.timings.challenge)})",
        file=out,
    )
    for number, offer in enumerate(challenge.accepts, 1):
        print(
            f"   offer {number}: {offer.scheme} on {offer.network}, "
            f"{format_usdc(offer.atomic_amount)} ({offer.amount} atomic) of {_short(offer.asset)} "
            f"to {offer.pay_to}",
            file=out,
        )


def _unfunded(response: X402Response) -> bool:
    """The refusal says the paying wallet has no token account for the asset (the transfer's
    InvalidAccountData) or too little in it."""
    if response.rejection == reasons.INSUFFICIENT_FUNDS:
        return True
    return response.rejection == reasons.TRANSACTION_SIMULATION_FAILED and (
        "InvalidAccountData" in response.text or "AccountNotFound" in response.text
    )


def report(response: X402Response, verbose: bool, out: TextIO) -> int:
    """Print what happened, step by step; the exit code (0 when the content was served)."""
    if not response.paid:
        took = _ms(response.timings.challenge)
        print(f"<- {response.status} without asking for payment ({took})", file=out)
        print(f"   body: {response.text[:500]}", file=out)
        return 0 if response.ok else 1
    _print_offers(response, out)
    if verbose:
        print(_json(response.challenge.to_wire()), file=out)
    payment, offer = response.payment, response.requirements
    assert payment is not None and offer is not None
    print(
        f"-> payment of {format_usdc(offer.atomic_amount)} {_asset_name(offer.asset)} "
        f"({offer.amount} atomic) from "
        f"{payment.payer} to {offer.pay_to}; fee payer {offer.fee_payer}; memo {payment.memo}",
        file=out,
    )
    print(
        f"   signed in {_ms(response.timings.sign)}, sent as {payment.header_name} "
        f"({len(payment.header_value)} bytes), blockhash "
        f"{payment.transaction.message.recent_blockhash}",
        file=out,
    )
    if payment.payment_id:
        print(f"   payment identifier {payment.payment_id}", file=out)
    if response.expired_hint:
        print(
            f"   the server's blockhash hint {response.expired_hint} had expired (the first "
            "payment was refused, BlockhashNotFound): signed again with the chain's own",
            file=out,
        )
    if verbose:
        print(_json(payment.wire), file=out)
    print(f"<- {response.status} ({_ms(response.timings.paid_request)})", file=out)
    if response.status == 409 and payment.payment_id:
        print(
            f"   hint: {payment.payment_id} was used before with another payment; a payment id "
            "names one payment, so a new payment needs a new id (leave --payment-id out)",
            file=out,
        )
    if response.rejection:
        print(f"   the server refused the payment: {response.rejection}", file=out)
        if _unfunded(response):
            print(
                f"   hint: {payment.payer} holds no {_short(offer.asset)} to pay with (no token "
                f"account, or too little): on the sandbox, run `x402-sandbox fund "
                f"{payment.payer} --usdc 10`",
                file=out,
            )
    receipt = response.receipt
    if response.receipt_error:
        print(f"   receipt header is malformed: {response.receipt_error}", file=out)
    elif receipt is None:
        print("   no receipt header (PAYMENT-RESPONSE / X-PAYMENT-RESPONSE)", file=out)
    else:
        state = "settled" if receipt.success else f"NOT settled ({receipt.error_reason})"
        print(f"   receipt: {state}, payer {receipt.payer}, network {receipt.network}", file=out)
        if receipt.error_message:
            print(f"   {receipt.error_message}", file=out)
        if verbose:
            print(_json(receipt.to_wire()), file=out)
    print(f"   body: {response.text[:500]}", file=out)
    if receipt is not None and receipt.transaction:
        print(f"transaction signature: {receipt.transaction}", file=out)
    return 0 if response.ok and (receipt is None or receipt.success) else 1


def _hint(error: PayerError, args: argparse.Namespace, max_amount: int) -> str:
    if isinstance(error, KeypairError):
        return f"pass --keypair FILE or set {KEYPAIR_ENV} (`make up` creates {DEFAULT_KEYPAIR})"
    if isinstance(error, RpcUnreachable):
        return f"start the sandbox (`make up`), or pass --rpc-url URL / set {RPC_ENV}"
    if isinstance(error, ServerUnreachable):
        return "is the paid server running? start it with `make up`, or check the URL"
    if isinstance(error, NoAcceptablePayment):
        prices = [offer.atomic_amount for offer, _ in error.rejections]
        if prices and min(prices) > max_amount:
            return f"pass --max-amount {format_usdc(min(prices))} (or more) to pay this price"
        return "check --asset, --network, --x402-version and --max-amount against the offers above"
    if isinstance(error, MintError):
        return "the chain at --rpc-url does not know the server's asset: same sandbox?"
    if isinstance(error, ChallengeError):
        return "the server's 402 does not follow x402; run with -v against a sandbox server"
    if isinstance(error, (RpcError, PaymentBuildError)):
        return "the payment could not be built from the server's requirements"
    return ""


async def _pay(args: argparse.Namespace, max_amount: int, out: TextIO) -> int:
    keypair = load_keypair(args.keypair or os.environ.get(KEYPAIR_ENV) or DEFAULT_KEYPAIR)
    rpc_url = args.rpc_url or os.environ.get(RPC_ENV) or DEFAULT_RPC_URL
    policy = PaymentPolicy(
        max_amount=max_amount,
        # Only the chain's network: a Solana transaction names no cluster, so a mainnet offer
        # signed with this chain's blockhash would be settled here by a server that lies.
        networks=tuple(args.network) if args.network else (SOLANA_DEVNET,),
        assets=tuple(args.asset) if args.asset else None,
    )
    print(f"-> {args.method} {args.url} as {keypair.pubkey()} (chain {rpc_url})", file=out)
    async with X402Client(
        keypair,
        rpc_url=rpc_url,
        policy=policy,
        x402_version=args.x402_version,
        timeout=args.timeout,
        create_ata=args.create_ata,
        payment_ids=not args.no_payment_id,
    ) as client:
        if args.sign_in:
            signed = await client.sign_in(args.url, method=args.method)
            return report_sign_in(signed, out)
        response = await client.request(args.method, args.url, payment_id=args.payment_id)
    return report(response, args.verbose, out)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        max_amount = parse_price(args.max_amount)
    except ValueError as exc:
        parser.error(f"--max-amount: {exc}")
    if args.payment_id is not None and not valid_payment_id(args.payment_id):
        parser.error(f"--payment-id: must be {ID_RULE}, got {args.payment_id!r}")
    try:
        return asyncio.run(_pay(args, max_amount, out))
    except PayerError as error:
        if isinstance(error, NoAcceptablePayment):
            for number, (offer, reason) in enumerate(error.rejections, 1):
                version = 1 if isinstance(offer, PaymentRequirementsV1) else 2
                print(f"   offer {number} (v{version}): refused, {reason}", file=out)
        print(f"error: {error}", file=sys.stderr)
        hint = _hint(error, args, max_amount)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
