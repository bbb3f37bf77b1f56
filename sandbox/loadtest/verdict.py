"""The run's verdict and what the report says beside it: the reasons a run FAILs, the warnings
that qualify its figures, and the throughput series smoothed to the chain's block time.

A run FAILs, each with one line saying why, when:
- a threshold was crossed (--fail-p99, --fail-error-rate) or failures exceed --fail-ratio of the
  main phase's requests (default 1%);
- throughput stalled: no main-phase request completed for STALL_SECONDS or more while users
  were running (a chain dropping transactions leaves every user waiting on a settlement);
- the money does not reconcile with the chain;
- it was interrupted (Ctrl-C) or Locust exited with an error.

Throughput is counted per second by Locust; at 400 ms slots a second holds two or three block
closes, so per-second counts of settled payments zig-zag 2-3-2-3. `smoothed` averages over the
shortest window holding a whole number of slots (2 s at 400 ms: five slots), and says so.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "DEFAULT_FAIL_RATIO",
    "STALL_SECONDS",
    "failure_ratio_reason",
    "failure_reasons",
    "judge",
    "longest_stall",
    "saturation_warnings",
    "slot_window",
    "smoothed",
    "step_table",
]

STALL_SECONDS = 5
DEFAULT_FAIL_RATIO = 0.01
SATURATED_PERCENT = 90.0  # of one core, averaged over the run: a Python process is maxed out


def slot_window(slot_ms: int | None) -> int:
    """Seconds per throughput bucket: the least whole number of seconds that holds a whole
    number of slots (1 at --slot-ms 0 or unknown; 2 at 400 ms), at most 5."""
    if not slot_ms or slot_ms <= 0:
        return 1
    window = math.lcm(int(slot_ms), 1000) // 1000
    return window if window <= 5 else 1


def smoothed(points: list[dict[str, Any]], window: int) -> list[tuple[float, float]]:
    """(t, requests per second over the `window` seconds ending at t), from the per-second
    `rps` of history_series (its counters are cumulative, so this loses nothing)."""
    if window <= 1:
        return [(p["t"], p["rps"]) for p in points]
    out: list[tuple[float, float]] = []
    for index in range(window - 1, len(points)):
        span = points[index - window + 1 : index + 1]
        out.append((span[-1]["t"], round(sum(p["rps"] for p in span) / window, 2)))
    return out


def longest_stall(points: list[dict[str, Any]]) -> tuple[float, float] | None:
    """(start t, seconds) of the longest stretch with users running and nothing completed,
    after the first completion and before the last second; None when there is none."""
    started = False
    best: tuple[float, float] | None = None
    run_start: float | None = None
    for point in points[:-1]:  # the last second is the stop: users are leaving
        if point["rps"] > 0:
            started = True
            if run_start is not None:
                length = point["t"] - run_start
                if best is None or length > best[1]:
                    best = (run_start, length)
                run_start = None
        elif started and point["users"] and run_start is None:
            run_start = point["t"] - 1
    if run_start is not None and len(points) > 1:
        length = points[-2]["t"] - run_start
        if best is None or length > best[1]:
            best = (run_start, length)
    return best


def failure_ratio_reason(main: dict[str, Any] | None, name: str, ratio: float) -> str | None:
    if not main or not main["count"]:
        return None
    observed = main["failures"] / main["count"]
    if observed <= ratio:
        return None
    return (
        f"{main['failures']} of {main['count']} {name} requests failed ({observed:.1%}), "
        f"over --fail-ratio {ratio:.1%}"
    )


def saturation_warnings(generator_cpu: dict[str, Any], target_cpu: dict[str, Any]) -> list[str]:
    """Banners for a saturated load generator or target: the figures are its limit then."""
    warnings = []
    busiest = generator_cpu.get("busiestProcessAvgPercent")
    if busiest is not None and busiest >= SATURATED_PERCENT:
        warnings.append(
            f"the load generator was saturated (its busiest process used {busiest:.0f}% of a "
            "core on average): the figures are the generator's limit, not the target's; "
            "add --processes or run the generator on another machine"
        )
    for name, figures in sorted(target_cpu.items()):
        average = figures.get("avgPercent")
        if average is not None and average >= SATURATED_PERCENT:
            warnings.append(
                f"the {name} was saturated ({average:.0f}% of a core on average): it is the "
                "bottleneck at this load"
            )
    machine = generator_cpu.get("machineAvgPercent")
    if machine is not None and machine >= SATURATED_PERCENT:
        warnings.append(
            f"the machine's CPUs were {machine:.0f}% busy on average: generator and target "
            "compete for the same cores"
        )
    return warnings


def step_table(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per plateau of the user count (a step ramp): users, seconds, completions/s,
    the median of the per-second p50 and the worst per-second p99 in it."""
    rows: list[dict[str, Any]] = []
    for point in points:
        if not point["users"]:
            continue
        if not rows or rows[-1]["users"] != point["users"]:
            rows.append({"users": point["users"], "from": point["t"], "points": []})
        rows[-1]["points"].append(point)
    table = []
    for row in rows:
        pts = row.pop("points")
        p50s = sorted(p["p50"] for p in pts if p.get("p50") is not None)
        p99s = [p["p99"] for p in pts if p.get("p99") is not None]
        table.append(
            {
                "users": row["users"],
                "fromSeconds": row["from"],
                "seconds": len(pts),
                "perSecond": round(sum(p["rps"] for p in pts) / len(pts), 2),
                "failures": round(sum(p["fps"] for p in pts), 2),
                "p50": p50s[len(p50s) // 2] if p50s else None,
                "p99": max(p99s) if p99s else None,
            }
        )
    return table


def failure_reasons(failures_csv, counted: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    """Rows {name, error, occurrences}, most frequent first: what the Locust processes counted
    themselves (`counted`, to their last moment), else Locust's failures file."""
    import csv

    tally = dict(counted)
    if not tally:
        try:
            with failures_csv.open(newline="") as handle:
                for row in csv.DictReader(handle):
                    key = (row.get("Name", ""), row.get("Error", ""))
                    tally[key] = tally.get(key, 0) + int(row.get("Occurrences") or 0)
        except OSError:
            pass
    rows = [{"name": n, "error": e, "occurrences": c} for (n, e), c in tally.items()]
    return sorted(rows, key=lambda row: -row["occurrences"])


def judge(summary: dict[str, Any], fail_ratio: float, slot_ms: int | None) -> dict[str, Any]:
    """What summary.json adds beside the figures: `verdict` {ok, reasons, warnings},
    `throughput` (the main phase smoothed to the block time) and `steps` (a step ramp)."""
    main_name = summary["mainPhase"]
    main = summary["phases"].get(main_name)
    points = summary.get("series", {}).get(main_name, [])
    run = summary["run"]
    why = list(summary["thresholds"]["crossed"])
    ratio = failure_ratio_reason(main, main_name, fail_ratio)
    if ratio:
        why.append(ratio)
    stall = longest_stall(points)
    if stall and stall[1] >= STALL_SECONDS:
        why.append(
            f"throughput stalled: no {main_name} completed for {stall[1]:.0f} s from "
            f"{stall[0]:.0f} s into the run, with users running (a target that stops "
            "answering, or a chain that drops transactions, leaves every user waiting)"
        )
    why += [f"reconciliation: {problem}" for problem in summary["reconciliation"]["problems"]]
    if run.get("interrupted"):
        why.append(
            f"interrupted (Ctrl-C) after {run.get('wallSeconds', 0):.0f} of "
            f"{run.get('durationSeconds')} s: the figures cover part of the run"
        )
    if run.get("locustExitCode") not in (0, None) and not run.get("interrupted"):
        why.append(f"Locust exited with code {run['locustExitCode']}: see locust.log")
    warnings = saturation_warnings(
        summary["generator"].get("cpu", {}), summary.get("targetCpu", {})
    )
    window = slot_window(slot_ms)
    return {
        "verdict": {"ok": not why, "reasons": why, "warnings": warnings},
        "throughput": {
            "phase": main_name,
            "windowSeconds": window,
            "slotMs": slot_ms,
            "note": (
                f"requests/s over {window} s windows ({window * 1000 // slot_ms} blocks of "
                f"{slot_ms} ms), so block timing shows no zig-zag"
                if window > 1 and slot_ms
                else "requests/s per second"
            ),
            "series": [{"t": t, "rps": rps} for t, rps in smoothed(points, window)],
        },
        "steps": step_table(points) if run.get("shape") == "step" else [],
    }
