"""An "x402" tab in Locust's web UI: the figures of the profile's main phase (paid round trips,
settlements, verifications or 402s), not the sum of its phases.

Locust's own totals add every phase a user reports: one paid round trip is a challenge, a
signature, a paid request and the round trip itself, so its table says four requests and a
median of the fastest ones. The tab reads the main phase's entry alone (aggregated from the
workers on a master). Served as `extended_stats` of /stats/requests, which Locust's web UI polls,
and at GET /x402/stats as JSON.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from locust import events

__all__ = ["MAIN_ENTRY_ENV", "figures"]

MAIN_ENTRY_ENV = "X402_LOADTEST_MAIN"
TAB = "x402"


def figures(stats: Any, main_entry: str) -> dict[str, Any]:
    """The main phase's figures from a Locust RequestStats."""
    entry = next((e for e in stats.entries.values() if e.name == main_entry), None)
    total = stats.total
    if entry is None or not entry.num_requests:
        return {"phase": main_entry, "completed": 0, "perSecond": 0.0, "locustTotalRps": 0.0}
    completed = entry.num_requests - entry.num_failures
    end = entry.last_request_timestamp or time.time()
    span = max(end - entry.start_time, 1e-9)
    return {
        "phase": main_entry,
        "completed": completed,
        "failures": entry.num_failures,
        "perSecond": round(completed / span, 2),
        "currentPerSecond": round(entry.current_rps, 2),
        "p50": entry.get_response_time_percentile(0.5),
        "p90": entry.get_response_time_percentile(0.9),
        "p99": entry.get_response_time_percentile(0.99),
        "max": round(entry.max_response_time or 0.0, 1),
        "seconds": round(span, 1),
        "locustTotalRps": round(total.current_rps, 2),  # what Locust's own table adds up
    }


def _rows(values: dict[str, Any]) -> list[dict[str, str]]:
    phase = values["phase"]
    labels = {
        "completed": f"{phase}: completed",
        "failures": f"{phase}: failures",
        "perSecond": f"{phase} per second (whole run)",
        "currentPerSecond": f"{phase} per second (now)",
        "p50": f"{phase} p50 ms",
        "p90": f"{phase} p90 ms",
        "p99": f"{phase} p99 ms",
        "max": f"{phase} max ms",
        "seconds": "seconds since the first request",
        "locustTotalRps": "Locust's total req/s (all phases added up)",
    }
    return [{"figure": labels[k], "value": f"{v:g}"} for k, v in values.items() if k in labels]


@events.init.add_listener
def _install(environment: Any, **_kwargs: Any) -> None:
    web_ui = environment.web_ui
    if web_ui is None:
        return
    from flask import jsonify, request

    main_entry = os.environ.get(MAIN_ENTRY_ENV, "round trip")
    web_ui.template_args["extended_tabs"] = [{"title": TAB, "key": TAB}]
    web_ui.template_args["extended_tables"] = [
        {
            "key": TAB,
            "structure": [{"key": "figure", "title": "x402"}, {"key": "value", "title": "value"}],
        }
    ]

    @web_ui.app.route("/x402/stats")
    def _x402_stats():
        return jsonify(figures(environment.runner.stats, main_entry))

    @web_ui.app.after_request
    def _extend(response):
        if request.path != "/stats/requests" or not response.is_json:
            return response
        body = response.get_json()
        values = figures(environment.runner.stats, main_entry)
        body["extended_stats"] = [{"key": TAB, "data": _rows(values)}]
        response.set_data(json.dumps(body))
        return response
