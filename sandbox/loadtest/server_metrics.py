"""Where the paid server's time went during a run, from its own /metrics read before and after:
the mean of its calls to the facilitator's /verify and /settle, of whole priced requests, and
what is left (the handler and the server itself). A server without our metrics gives None.
"""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["read_server_metrics", "server_split"]

_CALLS = "x402_server_facilitator_call_seconds"
_REQUESTS = "x402_server_request_seconds"


def read_server_metrics(server_url: str | None) -> dict[str, tuple[float, float]] | None:
    """{"verify"|"settle"|"request": (sum of seconds, count)} now, or None."""
    if not server_url:
        return None
    try:
        response = httpx.get(f"{server_url}/metrics", timeout=5.0)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    totals: dict[str, list[float]] = {}
    try:
        families = list(text_string_to_metric_families(response.text))
    except ValueError:
        return None
    for family in families:
        for sample in family.samples:
            if sample.name.endswith("_sum"):
                kind, slot = sample.name.removesuffix("_sum"), 0
            elif sample.name.endswith("_count"):
                kind, slot = sample.name.removesuffix("_count"), 1
            else:
                continue
            if kind == _CALLS and sample.labels.get("outcome", "").startswith("2"):
                key = sample.labels.get("call", "")
            elif kind == _REQUESTS:
                key = "request"
            else:
                continue
            totals.setdefault(key, [0.0, 0.0])[slot] += sample.value
    if "request" not in totals:
        return None
    return {key: (values[0], values[1]) for key, values in totals.items()}


def server_split(
    before: dict[str, tuple[float, float]] | None, after: dict[str, tuple[float, float]] | None
) -> dict[str, Any] | None:
    """Mean milliseconds per call over the run: verify, settle, request, and the rest."""
    if before is None or after is None:
        return None

    def mean(key: str) -> tuple[float | None, int]:
        s0, n0 = before.get(key, (0.0, 0.0))
        s1, n1 = after.get(key, (0.0, 0.0))
        count = int(n1 - n0)
        return (round(1000 * (s1 - s0) / count, 2) if count > 0 else None), count

    verify, verifies = mean("verify")
    settle, settles = mean("settle")
    request, requests = mean("request")
    if request is None:
        return None
    # Requests include the unpaid 402s, which call nothing: the rest is per paid request.
    paid_share = settles / requests if requests else 0.0
    spent = (verify or 0.0) * verifies / requests + (settle or 0.0) * paid_share
    return {
        "requests": requests,
        "verifies": verifies,
        "settles": settles,
        "requestMs": request,
        "verifyMs": verify,
        "settleMs": settle,
        "restMsPerRequest": round(request - spent, 2),
    }
