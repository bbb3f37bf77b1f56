"""A deliberately wrong x402 client, for check-client's tests: it pays the 402 at X402_URL
once, broken the way --break says, with the sandbox payer's own builders.

    memo      leaves the Memo instruction out (extra.memo not copied)
    amount    transfers one atomic unit less than offered
    mainnet   pays whatever network is offered (a policy accepting any Solana network)
    fee       makes itself the fee payer (pays its own fees in SOL)
    repay     when a paid request is not answered 200, signs and sends a second, new payment
              (with a new payment-identifier where the 402 declares one)
    resend    when a paid request is not answered 200, sends the very same payment again
    v2only    reads the v2 challenge (PAYMENT-REQUIRED) only
    no-id     sends no payment-identifier, even where the 402 requires one
    impatient gives a paid request 3 s, then signs and sends a new payment
    any-price pays whatever price is asked
    offer2    pays the second v2 offer of the 402 (not wrong: one of two offers)
    every-offer pays every v2 offer of the 402
    trust-hint signs with the 402's extra.recentBlockhash whenever there is one, and never
              again when that payment is refused (as the reference SDKs build)
"""

from __future__ import annotations

import argparse
import asyncio
import os

import aiohttp

from sandbox.payer import (
    ChainFacts,
    RpcClient,
    blockhash_hint,
    build_payment,
    load_keypair,
    read_challenge,
)
from sandbox.payer.mutations import missing_instruction, wrong_amount
from sandbox.protocol import PaymentRequirements
from sandbox.protocol.payment_identifier import EXTENSION, new_payment_id

BREAKS = (
    "memo", "amount", "mainnet", "fee", "repay", "resend", "v2only", "no-id", "impatient",
    "any-price", "offer2", "every-offer", "trust-hint",
)  # fmt: skip
PATIENCE = 3.0  # seconds the impatient client waits for a paid answer


def _build(kind, requirements, keypair, mint, blockhash, resource, extensions=None):
    if kind == "memo":
        return missing_instruction(
            requirements, keypair, mint, blockhash, resource=resource, which="memo"
        )
    if kind == "amount":
        return wrong_amount(requirements, keypair, mint, blockhash, resource=resource)
    if kind == "fee":
        extra = {**(requirements.extra or {}), "feePayer": str(keypair.pubkey())}
        mine = requirements.model_copy(update={"extra": extra})
        return build_payment(mine, keypair, mint, blockhash, resource=resource)
    if kind in ("repay", "resend") and EXTENSION in (extensions or {}):
        return build_payment(
            requirements, keypair, mint, blockhash, resource=resource,
            payment_id=new_payment_id(), extensions=extensions,
        )  # fmt: skip
    return build_payment(requirements, keypair, mint, blockhash, resource=resource)


async def _pay_once(session, facts, keypair, url: str, kind: str) -> int:
    async with session.get(url) as response:
        headers, body = response.headers, await response.read()
    challenge = read_challenge(headers, body, 2)
    offers = [o for o in challenge.accepts if isinstance(o, PaymentRequirements)]
    mint = await facts.mint(offers[0].asset)
    blockhash = await facts.blockhash()
    if kind == "trust-hint":
        blockhash = blockhash_hint(offers[0]) or blockhash
    extensions = challenge.extensions
    if kind in ("offer2", "every-offer"):
        chosen = offers[1:2] if kind == "offer2" else offers
        statuses = []
        for offer in chosen:
            payment = build_payment(offer, keypair, mint, blockhash, resource=challenge.resource)
            statuses.append(await _send(session, url, payment, kind))
        return min(statuses)
    requirements = offers[0]
    payment = _build(kind, requirements, keypair, mint, blockhash, challenge.resource, extensions)
    attempts = 2 if kind == "resend" else 1
    for attempt in range(attempts):
        status = await _send(session, url, payment, kind)
        if status == 200 or attempt == attempts - 1:
            return status
    return status


async def _send(session, url, payment, kind) -> int:
    try:
        wait = aiohttp.ClientTimeout(total=PATIENCE if kind == "impatient" else None)
        async with session.get(url, headers=payment.headers, timeout=wait) as response:
            print(f"{kind}: paid request answered {response.status}")
            return response.status
    except TimeoutError:
        print(f"{kind}: no answer in {PATIENCE} s")
        return 0


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--break", dest="kind", choices=BREAKS, required=True)
    args = parser.parse_args()
    keypair = load_keypair(os.environ["X402_KEYPAIR"])
    facts = ChainFacts(RpcClient(os.environ["X402_RPC_URL"]), blockhash_ttl=0.0)
    url = os.environ["X402_URL"]
    async with aiohttp.ClientSession() as session:
        status = await _pay_once(session, facts, keypair, url, args.kind)
        if (args.kind == "repay" and status != 200) or (args.kind == "impatient" and not status):
            # The retry loop of the field: a paid request still unanswered or answered 402, so
            # a new payment is signed and sent.
            status = await _pay_once(session, facts, keypair, url, args.kind)
    await facts.rpc.close()
    return 0 if status == 200 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
