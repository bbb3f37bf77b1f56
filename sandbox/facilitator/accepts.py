"""POST /accepts: a resource server's payment requirements, completed by the facilitator.

faremeter's middleware (@faremeter/middleware, remote-facilitator mode) asks its facilitator to
fill in what only the facilitator knows before it answers a 402: for the exact scheme on Solana,
`extra.feePayer`. The body is an x402 v2 PaymentRequired without the facilitator's fields:

    {"x402Version": 2, "resource": {...}, "accepts": [requirements, ...]}

and the answer is the same with every requirement this facilitator can settle completed (the
others left out, as a faremeter facilitator does). A body that is not that shape is a 400 naming
what is wrong.
"""

from __future__ import annotations

from typing import Any

import orjson

from sandbox.protocol import same_network

__all__ = ["AcceptsError", "complete_accepts"]

MAX_ACCEPTS = 32


class AcceptsError(ValueError):
    """The body is not a PaymentRequired to complete; the message says what is wrong."""


def complete_accepts(raw: bytes, network: str, fee_payer: str) -> bytes:
    """The PaymentRequired of `raw` with the requirements of the exact scheme on `network`
    (CAIP-2 or its v1 name) completed with `extra.feePayer`, as JSON; AcceptsError on a bad
    body."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise AcceptsError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise AcceptsError("the body must be a JSON object with `accepts`")
    accepts = body.get("accepts")
    if not isinstance(accepts, list) or not accepts:
        raise AcceptsError("`accepts` must be a non-empty list of payment requirements")
    if len(accepts) > MAX_ACCEPTS:
        raise AcceptsError(f"`accepts` holds {len(accepts)} requirements, at most {MAX_ACCEPTS}")
    completed = []
    for index, requirement in enumerate(accepts):
        if not isinstance(requirement, dict):
            raise AcceptsError(f"`accepts[{index}]` must be an object")
        scheme, on = requirement.get("scheme"), requirement.get("network")
        if not isinstance(scheme, str) or not isinstance(on, str):
            raise AcceptsError(f"`accepts[{index}]` needs `scheme` and `network` strings")
        if scheme != "exact" or not same_network(on, network):
            continue  # not ours to settle
        extra = requirement.get("extra") or {}
        if not isinstance(extra, dict):
            raise AcceptsError(f"`accepts[{index}].extra` must be an object")
        completed.append({**requirement, "extra": {**extra, "feePayer": fee_payer}})
    resource = body.get("resource")
    answer: dict[str, Any] = {"x402Version": 2, "accepts": completed}
    if isinstance(resource, dict):
        answer["resource"] = resource
    try:
        return orjson.dumps(answer)
    except orjson.JSONEncodeError:  # what it echoes nests deeper than JSON is written here
        raise AcceptsError("the body nests deeper than 254 levels") from None
