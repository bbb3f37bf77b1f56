"""The load test's verdict, smoothing, step table and regression check, on recorded series and
summaries (sandbox/loadtest/verdict.py, compare.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from sandbox.loadtest.cli import main
from sandbox.loadtest.compare import regressions
from sandbox.loadtest.report_html import render_report
from sandbox.loadtest.verdict import judge, longest_stall, slot_window, smoothed, step_table


def _points(rps: list[float], users: int | list[int] = 4) -> list[dict]:
    users_at = users if isinstance(users, list) else [users] * len(rps)
    return [
        {"t": t + 1, "users": u, "rps": r, "fps": 0.0, "p50": 400.0, "p90": 410.0, "p99": 420.0}
        for t, (r, u) in enumerate(zip(rps, users_at, strict=True))
    ]


def _summary(points: list[dict], **run) -> dict:
    main = {"type": "x402", "count": int(sum(p["rps"] for p in points)), "failures": 0}
    main.update(p50=400, p90=410, p99=420, max=430, rps=1)
    return {
        "mainPhase": "round trip",
        "phases": {"round trip": main},
        "series": {"round trip": points},
        "run": {"shape": "constant", "durationSeconds": len(points), "wallSeconds": 10, **run},
        "thresholds": {"crossed": []},
        "reconciliation": {"checked": True, "problems": []},
        "generator": {"cpu": {}},
    }


def test_400_ms_slots_zig_zag_per_second_and_not_in_two_second_windows():
    # 10 paid round trips per block, 2.5 blocks a second: 20, 30, 20, 30 ... per 1 s bucket
    zigzag = [20.0, 30.0] * 10
    assert slot_window(400) == 2 and slot_window(0) == 1 and slot_window(None) == 1
    assert slot_window(1000) == 1 and slot_window(250) == 1 and slot_window(300) == 3
    flat = [rps for _, rps in smoothed(_points(zigzag), slot_window(400))]
    assert set(flat) == {25.0}  # no zig-zag left
    assert len(set(rps for _, rps in smoothed(_points(zigzag), 1))) == 2


def test_a_stall_of_five_seconds_fails_the_run_with_the_reason():
    stalled = [20.0, 25.0, 22.0, 4.0] + [0.0] * 8 + [0.0]
    assert longest_stall(_points(stalled)) == (4, 8)
    result = judge(_summary(_points(stalled)), 0.01, 400)
    assert not result["verdict"]["ok"]
    assert any("stalled" in reason and "8 s" in reason for reason in result["verdict"]["reasons"])
    steady = judge(_summary(_points([20.0] * 12)), 0.01, 400)
    assert steady["verdict"] == {"ok": True, "reasons": [], "warnings": []}
    # idle seconds before the first completion (users signing, warming up) are no stall
    assert longest_stall(_points([0.0] * 6 + [20.0] * 6)) is None


def test_failures_over_the_ratio_and_an_interrupt_fail_with_their_reasons():
    summary = _summary(_points([20.0] * 6))
    summary["phases"]["round trip"].update(count=200, failures=3)
    reasons = judge(summary, 0.01, 0)["verdict"]["reasons"]
    assert reasons == ["3 of 200 round trip requests failed (1.5%), over --fail-ratio 1.0%"]
    assert judge(summary, 0.02, 0)["verdict"]["ok"]
    interrupted = _summary(_points([20.0] * 6), interrupted=True, wallSeconds=4)
    (reason,) = judge(interrupted, 0.01, 0)["verdict"]["reasons"]
    assert reason.startswith("interrupted (Ctrl-C) after 4 of 6 s")


def test_saturation_banners():
    summary = _summary(_points([20.0] * 6))
    summary["generator"]["cpu"] = {"busiestProcessAvgPercent": 97.0, "machineAvgPercent": 50}
    summary["targetCpu"] = {"facilitator": {"avgPercent": 99.0, "maxPercent": 100.0}}
    warnings = judge(summary, 0.01, 0)["verdict"]["warnings"]
    assert len(warnings) == 2
    assert "load generator was saturated" in warnings[0] and "facilitator" in warnings[1]
    page = render_report({**summary, **judge(summary, 0.01, 0), "profile": "paid-flow"})
    assert "load generator was saturated" in page


def test_a_step_ramp_gets_one_row_per_step():
    points = _points([10.0] * 3 + [18.0] * 3 + [24.0] * 3, users=[2] * 3 + [4] * 3 + [6] * 3)
    rows = step_table(points)
    assert [(r["users"], r["seconds"], r["perSecond"]) for r in rows] == [
        (2, 3, 10.0),
        (4, 3, 18.0),
        (6, 3, 24.0),
    ]


def _recorded(folder: Path, rps: float, p50: float, age: float) -> Path:
    folder.mkdir(parents=True)
    phase = {"count": 100, "failures": 0, "p50": p50, "p90": p50, "p99": p50, "rps": rps}
    summary = {"profile": "paid-flow", "mainPhase": "round trip", "generator": {}}
    summary["phases"] = {"round trip": phase}
    (folder / "summary.json").write_text(json.dumps(summary))
    stamp = time.time() - age
    os.utime(folder, (stamp, stamp))
    return folder


def test_compare_last_exits_1_on_a_20_percent_drop_and_0_on_noise(tmp_path: Path):
    reports = tmp_path / "reports"
    _recorded(reports / "1-paid-flow", 50.0, 400.0, age=300)
    _recorded(reports / "2-paid-flow", 48.5, 404.0, age=200)  # noise: -3%, +1%
    assert main(["compare", "--last", "--home", str(tmp_path)]) == 0
    _recorded(reports / "3-paid-flow", 38.0, 405.0, age=100)  # -21.6% throughput
    assert main(["compare", "--last", "--home", str(tmp_path)]) == 1
    assert main(["compare", "--last", "--threshold", "25", "--home", str(tmp_path)]) == 0
    a = json.loads((reports / "1-paid-flow" / "summary.json").read_text())
    slower = json.loads(json.dumps(a))
    slower["phases"]["round trip"]["p50"] = 500.0
    (found,) = regressions(a, slower, 20.0)
    assert found.startswith("round trip p50 rose 25.0%")


def test_compare_last_without_two_reports_says_what_to_do(tmp_path: Path, capsys):
    assert main(["compare", "--last", "--home", str(tmp_path)]) == 2
    assert "run `make loadtest` first" in capsys.readouterr().err


def test_a_compose_stack_without_pids_is_running_when_it_answers(tmp_path: Path):
    """Compose writes stack.json with no pids (its processes live in containers): `status`
    says healthy, so the load test must use it too, and say stopped only when it is."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import pytest

    from sandbox.loadtest.resolve import LoadtestError, resolve_targets

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    stack = {
        "home": str(tmp_path), "rpc_url": url, "ws_url": "ws://127.0.0.1:1",
        "facilitator_url": url, "server_url": url, "network": "solana:x", "network_v1": "x",
        "usdc_mint": "Mint", "pids": {},
        "wallets": [{"name": "merchant", "address": "M", "keypair_file": "k.json"}],
    }  # fmt: skip
    (tmp_path / "stack.json").write_text(json.dumps(stack))
    try:
        targets = resolve_targets(tmp_path, "server", None, None, None)
        assert targets.server_url == url and targets.stack is not None
        assert targets.merchant == "M"
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(LoadtestError, match="is stopped"):
        resolve_targets(tmp_path, "server", None, None, None)
