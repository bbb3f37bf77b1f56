"""What payment identifiers cost the load test's paid flow: `x402-sandbox loadtest paid-flow`
with `--payment-ids on` against `off`, on one stack, in the same run.

With ids on, each payment carries a fresh payment-identifier (as the sandbox payer sends one);
the server claims it in its SQLite record before verifying and keeps the answer after. Rounds
alternate the two sides (on, off, off, on, ...) so both see the same machine noise; each
side's p50 is the median of its rounds' round-trip p50s. Every run must reconcile exactly with
the chain (merchant received = payers spent = paid requests x price, one signature each).

Goal (issue 18): p50 with ids within 10% of the p50 without (on/off <= 1.10), and every run's
reconciliation exact. Run: `make bench ARGS=loadtest_ids`.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from sandbox.loadtest.cli import main as loadtest  # noqa: E402
from sandbox.orchestration.stack import StackConfig, start_stack, stop_stack  # noqa: E402
from sandbox.processes import free_port, free_port_pair  # noqa: E402

GOAL = 1.10
ROUNDS = 3
USERS = 8


def one_run(home: Path, report: Path, ids: str, seconds: float) -> dict:
    argv = ["paid-flow", "--home", str(home), "--report-dir", str(report), "--no-progress",
            "--users", str(USERS), "--payers", str(USERS), "--duration", f"{seconds:g}s",
            "--payment-ids", ids]  # fmt: skip
    with redirect_stdout(io.StringIO()):
        code = loadtest(argv)
    summary = json.loads((report / "summary.json").read_text())
    trip = summary["phases"]["round trip"]
    rec = summary["reconciliation"]
    return {
        "exit": code,
        "p50_ms": trip["p50"],
        "count": trip["count"],
        "failures": trip["failures"],
        "reconciled": bool(rec["checked"] and rec["ok"]),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per round and side")
    args = parser.parse_args(argv or [])
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="bench-ids-") as tmp:
        home = Path(tmp) / "home"
        config = StackConfig(
            home=home, rpc_port=free_port_pair(), facilitator_port=free_port(),
            server_port=free_port(), slot_ms=0, payers=1,
        )  # fmt: skip
        start_stack(config)
        try:
            one_run(home, Path(tmp) / "warmup", "on", 3)  # pool funded, caches and pages warm
            for index in range(ROUNDS):
                order = ("on", "off") if index % 2 == 0 else ("off", "on")
                for side in order:
                    report = Path(tmp) / f"{side}-{index}"
                    runs[side].append(one_run(home, report, side, args.seconds))
        finally:
            stop_stack(home)
    p50 = {side: statistics.median(r["p50_ms"] for r in rs) for side, rs in runs.items()}
    ratio = round(p50["on"] / p50["off"], 3) if p50["off"] else 0.0
    reconciled = all(r["reconciled"] and r["exit"] == 0 for rs in runs.values() for r in rs)
    met = ratio <= GOAL and reconciled
    result = {
        "runs": runs, "p50_ms": p50, "on_vs_off": ratio, "goal": GOAL,
        "all_reconciled": reconciled, "goal_met": met, "rounds": ROUNDS, "users": USERS,
    }  # fmt: skip
    for side in ("off", "on"):
        per_run = ", ".join(f"{r['p50_ms']} ms ({r['count']} paid)" for r in runs[side])
        print(f"   payment ids {side}: round-trip p50 per run {per_run}")
    print(
        f"   p50 on/off = {ratio:.3f} (goal <= {GOAL}); every run reconciled exactly: "
        f"{reconciled}; goal {'met' if met else 'NOT met'}"
    )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
