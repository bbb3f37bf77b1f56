"""`make bench` says "NOT met" when a figure misses its goal (it once printed the paid round
trip's rate with no word on its goal). The benchmark's own judge and report, on recorded figures:
running it takes minutes and belongs to `make bench`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH_SERVER = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_server.py"


def bench_server():
    spec = importlib.util.spec_from_file_location("bench_server_under_test", BENCH_SERVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recorded(paid_per_second: float, memory_per_second: float) -> dict:
    figures = {"p50_ms": 57.0, "p99_ms": 88.5, "requests": 5000, "failures": {}}
    return {
        "health": {**figures, "per_second": 13_000.0},
        "paid": {**figures, "per_second": paid_per_second, "phase_p50_ms": {}},
        "paid_memory_record": {**figures, "per_second": memory_per_second},
        "warmup_paid": 10,
        "merchant_received": 0,
        "merchant_matches_paid_requests": True,
    }


@pytest.mark.parametrize(
    ("paid", "memory", "paid_words", "record_words"),
    [
        (559.0, 580.0, "(goal 250: met)", "(goal at least 0.9: met)"),
        (180.0, 185.0, "(goal 250: NOT met)", "(goal at least 0.9: met)"),
        (300.0, 400.0, "(goal 250: met)", "(goal at least 0.9: NOT met)"),
    ],
)
def test_each_goal_says_met_or_not_met(capsys, paid, memory, paid_words, record_words) -> None:
    module = bench_server()
    result = module.judge(recorded(paid, memory))
    module.print_report(result, counted=5000)
    printed = capsys.readouterr().out
    assert paid_words in printed
    assert record_words in printed
    assert result["goal_paid_per_second_met"] is (paid >= 250)
