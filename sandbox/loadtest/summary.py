"""From Locust's output files to summary.json: per phase counts, percentiles and rates, and
the series the report charts (per second: throughput from the counters, latency percentiles
over Locust's rolling ten-second window).

Locust keeps response times in a histogram rounded to whole milliseconds (to 10 ms above
100 ms, 100 ms above 1 s); percentiles here come from that histogram, like Locust's own.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

__all__ = ["PHASE_ORDER", "history_series", "percentile", "phase_stats", "threshold_failures"]

PHASE_ORDER = ("challenge", "sign", "paid request", "round trip", "verify", "settle")


def percentile(histogram: dict[Any, int], count: int, fraction: float) -> float:
    if not count or not histogram:
        return 0.0
    wanted = max(1, math.ceil(fraction * count))
    seen = 0
    for value, n in sorted((float(k), v) for k, v in histogram.items()):
        seen += n
        if seen >= wanted:
            return value
    return max(float(k) for k in histogram)


def _order(name: str) -> tuple[int, str]:
    return (PHASE_ORDER.index(name) if name in PHASE_ORDER else len(PHASE_ORDER), name)


def phase_stats(locust_json: Path) -> dict[str, dict[str, Any]]:
    """Per entry name: type, count, failures, p50/p90/p99/max/avg (ms), requests per second."""
    entries = json.loads(locust_json.read_text())
    # Rates over the whole run (first request of any entry to the last), so an entry used
    # only at the start (mint facts) does not look fast.
    starts = [e["start_time"] for e in entries if e.get("start_time")]
    ends = [e["last_request_timestamp"] for e in entries if e.get("last_request_timestamp")]
    span = (max(ends) - min(starts)) if starts and ends else 0.0
    phases: dict[str, dict[str, Any]] = {}
    for entry in sorted(entries, key=lambda e: _order(e["name"])):
        count = entry["num_requests"]
        histogram = entry.get("response_times") or {}
        phases[entry["name"]] = {
            "type": entry.get("method") or "",
            "count": count,
            "failures": entry["num_failures"],
            "p50": percentile(histogram, count, 0.50),
            "p90": percentile(histogram, count, 0.90),
            "p99": percentile(histogram, count, 0.99),
            "max": round(entry.get("max_response_time") or 0.0, 3),
            "avg": round(entry["total_response_time"] / count, 3) if count else 0.0,
            "rps": round(count / span, 2) if span > 0 else float(count),
        }
    return phases


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def history_series(history_csv: Path) -> dict[str, list[dict[str, Any]]]:
    """Per entry name (and "Aggregated"), one point a second: t (s from start), users, rps
    (from the request counter), failures/s, mean (ms, exact, of the requests completed in
    that second), p50/p90/p99 (ms, Locust's rolling window, rounded)."""
    if not history_csv.exists():
        return {}
    with history_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return {}
    start = min(int(r["Timestamp"]) for r in rows)
    series: dict[str, list[dict[str, Any]]] = {}
    last: dict[str, tuple[int, int, int, float]] = {}
    for row in rows:
        name = row["Name"]
        t = int(row["Timestamp"])
        total = int(row["Total Request Count"] or 0)
        failed = int(row["Total Failure Count"] or 0)
        # Locust's running mean is exact (its percentiles are rounded to 10 ms above 100 ms):
        # the sum it implies, less the previous second's, is this second's time spent.
        spent = (_number(row.get("Total Average Response Time", "")) or 0.0) * total
        prev_t, prev_total, prev_failed, prev_spent = last.get(name, (t - 1, 0, 0, 0.0))
        last[name] = (t, total, failed, spent)
        if t == prev_t:
            continue
        dt, done = t - prev_t, total - prev_total
        series.setdefault(name, []).append(
            {
                "t": t - start,
                "users": int(row["User Count"] or 0),
                "rps": round(done / dt, 2),
                "fps": round((failed - prev_failed) / dt, 2),
                "mean": round((spent - prev_spent) / done, 3) if done > 0 else None,
                "p50": _number(row["50%"]),
                "p90": _number(row["90%"]),
                "p99": _number(row["99%"]),
            }
        )
    return series


def threshold_failures(
    main: dict[str, Any] | None,
    main_name: str,
    fail_p99: float | None,
    fail_error_rate: float | None,
) -> list[str]:
    """Which thresholds the main entry crossed (an empty list: none)."""
    if main is None or not main["count"]:
        return [f"no {main_name!r} requests were made"]
    crossed = []
    if fail_p99 is not None and main["p99"] > fail_p99:
        crossed.append(f"{main_name} p99 {main['p99']:.0f} ms > --fail-p99 {fail_p99:g} ms")
    rate = main["failures"] / main["count"]
    if fail_error_rate is not None and rate > fail_error_rate:
        crossed.append(f"{main_name} error rate {rate:.4f} > --fail-error-rate {fail_error_rate:g}")
    return crossed
