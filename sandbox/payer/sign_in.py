"""Signing in with sign-in-with-x instead of paying (the wire side: sandbox/protocol/siws.py).

    client = X402Client(keypair)
    response = await client.sign_in("http://127.0.0.1:4021/api/member-content")
    response.signed_in    True: served without a payment; else response.rejection says why

`X402Client.sign_in` asks for the route, signs the 402's challenge with the client's keypair
(the first Solana ed25519 chain it lists) and sends the request again once with SIGN-IN-WITH-X.
It never pays: a wallet that has not paid for the route is refused (pay once first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

import orjson
from solders.keypair import Keypair

from sandbox.payer.errors import PayerError
from sandbox.protocol import PaymentRequired, reasons, siws

if TYPE_CHECKING:
    from sandbox.payer.client import X402Response

__all__ = ["SignInUnavailable", "report_sign_in", "sign_in_headers"]

_HINTS = {
    reasons.SIGN_IN_NOT_PAID: "this wallet has not paid for this route yet: pay once without "
    "--sign-in (`x402-sandbox pay URL`), then sign in",
    reasons.SIGN_IN_NONCE_REUSED: "each challenge opens once: run the command again for a fresh "
    "one",
    reasons.SIGN_IN_TOO_OLD: "compare this machine's clock with the server's",
    reasons.SIGN_IN_ISSUED_IN_FUTURE: "compare this machine's clock with the server's",
}


class SignInUnavailable(PayerError):
    """The 402 declares no sign-in-with-x this wallet can use (or no v2 challenge at all)."""


def sign_in_headers(challenge: object, keypair: Keypair) -> dict[str, str]:
    """{SIGN-IN-WITH-X: header} answering `challenge` (a read 402); SignInUnavailable when it
    offers no sign-in on Solana."""
    if not isinstance(challenge, PaymentRequired):
        raise SignInUnavailable(
            "the 402 is an x402 v1 challenge: sign-in-with-x is declared in v2's PAYMENT-REQUIRED"
        )
    extension = (challenge.extensions or {}).get(siws.EXTENSION)
    if not isinstance(extension, dict):
        raise SignInUnavailable(f"the 402 declares no {siws.EXTENSION} extension: pay instead")
    try:
        message = siws.sign(extension, keypair)
    except ValueError as exc:
        raise SignInUnavailable(str(exc)) from None
    return {siws.HEADER: siws.encode_header(message)}


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds is not None else "-"


def report_sign_in(response: X402Response, out: TextIO) -> int:
    """Print what the sign-in did; the exit code (0 when the content was served)."""
    if response.sign_in is None:
        took = _ms(response.timings.challenge)
        print(f"<- {response.status} without asking for payment ({took})", file=out)
        print(f"   body: {response.text[:500]}", file=out)
        return 0 if response.ok else 1
    message = siws.decode_header(response.sign_in)
    print(
        f"<- 402 Payment Required with a {siws.EXTENSION} challenge for {message.domain} "
        f"({_ms(response.timings.challenge)})",
        file=out,
    )
    print(
        f"-> signed in as {message.address} on {message.chain_id} ({siws.HEADER}, nonce "
        f"{message.nonce}); no payment sent",
        file=out,
    )
    print(f"<- {response.status} ({_ms(response.timings.paid_request)})", file=out)
    if response.signed_in:
        print("   signed in: served without paying", file=out)
        print(f"   body: {response.text[:500]}", file=out)
        return 0
    try:
        why = orjson.loads(response.body).get("message", "")
    except (orjson.JSONDecodeError, AttributeError):
        why = response.text[:300]
    print(f"   the server refused the sign-in: {response.rejection}", file=out)
    if why:
        print(f"   {why}", file=out)
    hint = _HINTS.get(response.rejection or "")
    if hint:
        print(f"   hint: {hint}", file=out)
    return 1
