"""Each profile for real: Locust against the sandbox stack (the x402_stack fixture), short runs.

What must hold: no failed request, the report files exist, the money reconciles with the
chain, and the counts in summary.json agree with the chain's own transaction count. Then a
slowed facilitator must show up in the measured latency: the measurement is real.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import httpx
import pytest

from sandbox.loadtest.cli import main

pytestmark = pytest.mark.slow

REPORT_FILES = (
    "locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "locust.html",
    "locust_stats.json", "summary.json", "report.html",
)  # fmt: skip


def run(stack, report: Path, *args: str) -> tuple[int, dict]:
    code = main([*args, "--home", stack.home, "--report-dir", str(report), "--no-progress",
                 "--payers", "6"])  # fmt: skip
    summary = json.loads((report / "summary.json").read_text())
    return code, summary


def assert_clean(summary: dict, report: Path) -> None:
    for name in REPORT_FILES:
        assert (report / name).is_file(), name
    assert "<svg" in (report / "report.html").read_text()
    failed = {name: p["failures"] for name, p in summary["phases"].items() if p["failures"]}
    assert not failed, failed
    assert summary["phases"][summary["mainPhase"]]["count"] > 0
    rec = summary["reconciliation"]
    assert rec["checked"] and rec["ok"], rec
    assert summary["ok"]


@pytest.mark.parametrize("profile", ["paid-flow", "settle"])
def test_money_profiles_reconcile_with_the_chain(x402_stack, tmp_path: Path, profile: str):
    code, summary = run(x402_stack, tmp_path, profile, "--users", "4", "--duration", "15s")
    assert code == 0, summary["reconciliation"]
    assert_clean(summary, tmp_path)
    paid_entry = "paid request" if profile == "paid-flow" else "settle"
    paid = summary["phases"][paid_entry]["count"]
    assert paid == summary["chain"]["transactions"] == summary["reconciliation"]["payments"]
    if profile == "paid-flow":
        for phase in ("challenge", "sign", "round trip"):
            assert summary["phases"][phase]["count"] == paid
    rec = summary["reconciliation"]
    assert rec["merchantReceivedAtomic"] == rec["payersSpentAtomic"] == rec["expectedAtomic"] > 0
    assert rec["receiptSignatures"] == paid and rec["duplicateSignatures"] == 0
    assert summary["generator"]["signed"] >= paid
    assert summary["generator"]["cpu"]["series"]
    if profile == "paid-flow":  # the server's own split of its time, from its /metrics
        split = summary["serverSplit"]
        assert split["settles"] == paid and split["verifies"] >= paid
        assert 0 < split["verifyMs"] < split["requestMs"] and split["settleMs"] > 0
        assert "Where the paid server" in (tmp_path / "report.html").read_text()


def _ids_kept(stack) -> int:
    """Payment ids the stack's server has answered (its payment-record file)."""
    import sqlite3

    db = sqlite3.connect(Path(stack.home) / "server" / "payments.sqlite3")
    try:
        return db.execute("SELECT COUNT(*) FROM payment_ids WHERE answer IS NOT NULL").fetchone()[0]
    finally:
        db.close()


@pytest.mark.parametrize("ids", ["on", "off"])
def test_paid_flow_sends_payment_ids_unless_told_not_to(x402_stack, tmp_path: Path, ids: str):
    before = _ids_kept(x402_stack)
    code, summary = run(
        x402_stack, tmp_path, "paid-flow", "--users", "2", "--duration", "5s", "--payment-ids", ids
    )
    assert code == 0, summary["reconciliation"]
    phase = summary["phases"]["paid request"]
    paid = phase["count"] - phase["failures"]  # only a 200 keeps its answer
    assert paid > 0 and summary["reconciliation"]["ok"]
    assert summary["run"]["paymentIds"] is (ids == "on")
    assert _ids_kept(x402_stack) - before == (paid if ids == "on" else 0)


@pytest.mark.parametrize("profile", ["challenge", "verify"])
def test_profiles_that_move_no_money(x402_stack, tmp_path: Path, profile: str):
    code, summary = run(x402_stack, tmp_path, profile, "--users", "4", "--duration", "15s")
    assert code == 0
    assert_clean(summary, tmp_path)
    assert summary["chain"]["transactions"] == 0
    assert summary["reconciliation"]["merchantReceivedAtomic"] == 0


def test_distributed_step_ramp(x402_stack, tmp_path: Path):
    """--processes 2: master and two workers; every worker's payments are accounted for."""
    code, summary = run(x402_stack, tmp_path, "paid-flow", "--users", "4", "--duration", "8s",
                        "--processes", "2", "--shape", "step")  # fmt: skip
    assert code == 0, summary["reconciliation"]
    assert_clean(summary, tmp_path)
    assert summary["generator"]["locustProcessesReporting"] == 2
    users = [p["users"] for p in summary["series"]["round trip"] if p["users"]]
    assert users[0] < max(users) == 4  # the step shape ramped up
    assert summary["phases"]["paid request"]["count"] == summary["chain"]["transactions"]


def test_constant_arrival_rate_holds_the_rate(x402_stack, tmp_path: Path):
    """--shape rate: users pace themselves so that together they start --rate round trips/s."""
    code, summary = run(x402_stack, tmp_path, "challenge", "--users", "4", "--duration", "8s",
                        "--shape", "rate", "--rate", "20")  # fmt: skip
    assert code == 0
    assert_clean(summary, tmp_path)
    # Unpaced, four users answer thousands of 402s a second; paced, about 20.
    assert 14 <= summary["phases"]["challenge"]["rps"] <= 22, summary["phases"]


def test_spike_shape_rises_and_falls(x402_stack, tmp_path: Path):
    code, summary = run(x402_stack, tmp_path, "challenge", "--users", "10", "--duration", "10s",
                        "--shape", "spike")  # fmt: skip
    assert code == 0
    assert_clean(summary, tmp_path)
    users = [p["users"] for p in summary["series"]["challenge"] if p["users"]]
    peak = users.index(max(users))
    assert max(users) == 10 and users[0] < 10 and users[-1] < 10 and 0 < peak < len(users) - 1


def test_threshold_crossed_fails_the_run(x402_stack, tmp_path: Path):
    # The paid round trip: a challenge can answer in under half a millisecond, which Locust's
    # histogram rounds to a p99 of 0 (no threshold above 0 is then crossed).
    code, summary = run(x402_stack, tmp_path, "paid-flow", "--users", "2", "--duration", "3s",
                        "--fail-p99", "1")  # fmt: skip
    assert code == 1
    assert not summary["ok"] and "--fail-p99" in summary["thresholds"]["crossed"][0]


def test_slowed_facilitator_shows_in_the_paid_request(x402_stack, tmp_path: Path):
    faults = f"{x402_stack.facilitator_url}/_sandbox/faults"
    _, base = run(x402_stack, tmp_path / "base", "paid-flow", "--users", "2", "--duration", "6s")
    slow_ms = 200
    httpx.post(faults, json={"faults": [{"endpoint": "verify", "kind": "latency", "ms": slow_ms}]})
    try:
        _, slow = run(x402_stack, tmp_path / "slow", "paid-flow", "--users", "2",
                      "--duration", "6s")  # fmt: skip
    finally:
        httpx.post(faults, json={"faults": []})
    grown = slow["phases"]["paid request"]["p50"] - base["phases"]["paid request"]["p50"]
    # Locust rounds times above 100 ms to 10 ms; the machine is shared: a generous band.
    assert slow_ms - 40 <= grown <= slow_ms + 80, (base["phases"], slow["phases"])
    grown_trip = slow["phases"]["round trip"]["p50"] - base["phases"]["round trip"]["p50"]
    assert slow_ms - 40 <= grown_trip <= slow_ms + 80
    assert slow["phases"]["challenge"]["p50"] < 50  # the 402 does not call the facilitator
    assert slow["reconciliation"]["ok"]


@pytest.fixture
def own_stack(tmp_path: Path):
    """A stack of the test's own (its faults or block time must not reach other tests)."""
    from sandbox.orchestration.stack import StackConfig, start_stack, stop_stack
    from sandbox.processes import free_port, free_port_pair

    started = []

    def start(**options):
        home = tmp_path / f"stack-{len(started)}"
        config = StackConfig(
            home=home, rpc_port=free_port_pair(), facilitator_port=free_port(),
            server_port=free_port(), payers=1, **options,
        )  # fmt: skip
        started.append(home)
        return start_stack(config)

    yield start
    for home in started:
        stop_stack(home)


def test_a_chain_dropping_transactions_fails_the_run_with_the_reason(own_stack, tmp_path: Path):
    stack = own_stack(slot_ms=0, chain_faults=(("dropRate", 0.1),))
    code, summary = run(stack, tmp_path / "report", "paid-flow", "--users", "4",
                        "--duration", "15s")  # fmt: skip
    assert code == 1 and not summary["ok"]
    reasons = summary["verdict"]["reasons"]
    assert any("stalled" in r or "failed" in r for r in reasons), reasons
    page = (tmp_path / "report" / "report.html").read_text()
    assert "banner bad" in page and reasons[0].split(":")[0] in page
    # every failure counted in the phases has its reason (Locust's own file can miss those of
    # users stopped at the end)
    failed = sum(p["failures"] for p in summary["phases"].values())
    assert sum(f["occurrences"] for f in summary["failureReasons"]) == failed


def test_at_400_ms_slots_the_phases_differ_and_throughput_does_not_zig_zag(
    own_stack, tmp_path: Path
):
    stack = own_stack(slot_ms=400)
    code, summary = run(stack, tmp_path, "paid-flow", "--users", "8", "--duration", "14s")
    assert code == 0, summary["verdict"]
    series = summary["series"]
    means = {
        phase: [p["mean"] for p in series[phase] if p["mean"] is not None]
        for phase in ("challenge", "sign", "paid request", "round trip")
    }
    assert len({tuple(values) for values in means.values()}) == 4  # four different series
    assert max(means["challenge"]) < min(means["paid request"]) < min(means["round trip"])
    throughput = summary["throughput"]
    assert throughput["windowSeconds"] == 2 and throughput["slotMs"] == 400
    steady = [p["rps"] for p in throughput["series"]][2:-2]  # ramp and stop left out
    assert steady
    # zig-zag: consecutive windows alternating up and down by a block's worth of payments
    swings = [abs(b - a) for a, b in itertools.pairwise(steady)]
    assert max(swings) <= 0.35 * (sum(steady) / len(steady)), steady


def test_the_locust_tab_counts_paid_round_trips_as_the_chain_does(x402_stack, tmp_path: Path):
    """--ui --autostart: Locust's web UI with the x402 tab, measured like a headless run. The
    tab's paid round trips/s match the reconciled payments over the run time within 5%."""
    import threading

    from sandbox.processes import free_port

    port = free_port()
    result: dict = {}
    runner = threading.Thread(
        target=lambda: result.update(
            zip(("code", "summary"),
                run(x402_stack, tmp_path, "paid-flow", "--users", "4", "--duration", "10s",
                    "--ui", "--autostart", "--web-port", str(port)), strict=True)
        )
    )  # fmt: skip
    runner.start()
    tab: dict = {}
    deadline = time.monotonic() + 90
    while runner.is_alive() and time.monotonic() < deadline:
        try:
            stats = httpx.get(f"http://127.0.0.1:{port}/stats/requests", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            time.sleep(0.2)
            continue
        if stats.get("state") == "stopped" and stats.get("extended_stats"):
            rows = stats["extended_stats"][0]["data"]
            tab = {row["figure"]: float(row["value"]) for row in rows}
            break
        time.sleep(0.2)
    runner.join(timeout=120)
    assert result["code"] == 0, result["summary"]["verdict"]
    summary = result["summary"]
    per_second = tab["round trip per second (whole run)"]
    payments = summary["reconciliation"]["payments"]
    main = summary["phases"]["round trip"]
    reconciled = payments / (main["count"] / main["rps"])  # over the run's own time span
    assert payments == tab["round trip: completed"] > 0
    assert abs(per_second - reconciled) <= 0.05 * reconciled, (tab, reconciled)
