"""`--settle-status`: a settle answer's optional `status` and `statusAnchor`.

The fields come from an open proposal for the v2 SettleResponse (x402-foundation/x402 #3208,
PR #3325: a settlement status vocabulary), so they are off by default; a client that does not
know them ignores them. With them on, a settle answer says which state the settlement is in and
names the on-chain object a stranger can check:

    status        settled | pending | expired    (omitted when the state is unknown: a
                  payment refused before anything was sent, or one that landed failing)
    statusAnchor  {kind: "transaction", network, ref: <signature>,
                   finality: finalized | confirmations:<n> | unconfirmed, observedAt}
                  kind "none" (no ref) for an expired one: nothing landed to point at.

`finality` is read from the chain when the answer is made (one getSignatureStatuses, at most
LOOKUP_SECONDS); when the chain cannot tell in time, it is `unconfirmed`: the transaction was
sent, nothing more is known.
"""

from __future__ import annotations

import asyncio
import datetime

from sandbox.facilitator.provider import ChainError, ChainProvider
from sandbox.facilitator.results import SettleResult

__all__ = ["LOOKUP_SECONDS", "finality_of", "status_fields"]

LOOKUP_SECONDS = 1.0


def finality_of(confirmation: str | None, confirmations: int | None) -> str:
    if confirmation == "finalized":
        return "finalized"
    if confirmation in ("processed", "confirmed") and confirmations is not None:
        return f"confirmations:{confirmations}"
    return "unconfirmed"


def _now() -> str:
    moment = datetime.datetime.now(datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def status_fields(chain: ChainProvider, result: SettleResult, network: str) -> dict:
    """The fields to add to the settle answer of `result` (none when its state is unknown)."""
    if result.status is None:
        return {}
    if result.status == "expired" or not result.transaction:
        anchor = {"kind": "none", "network": network, "observedAt": _now()}
        return {"status": result.status, "statusAnchor": anchor}
    try:
        # Bounded: the settlement is done; a slow chain must not make its answer late (a
        # server that times out on a settled payment has to resolve it by a resend).
        seen = await asyncio.wait_for(chain.status(result.transaction), LOOKUP_SECONDS)
    except (ChainError, TimeoutError):
        seen = None
    finality = "unconfirmed" if seen is None else finality_of(seen.confirmation, seen.confirmations)
    anchor = {
        "kind": "transaction",
        "network": network,
        "ref": result.transaction,
        "finality": finality,
        "observedAt": _now(),
    }
    return {"status": result.status, "statusAnchor": anchor}
