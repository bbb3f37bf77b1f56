"""The load-test wrapper's pure parts and its errors (no stack, no Locust process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests.shape_math import spike_users, step_users
from loadtests.targets import TargetError, Targets
from sandbox.loadtest.chain_accounts import Snapshot
from sandbox.loadtest.cli import UsageError, main, parse_duration
from sandbox.loadtest.compare import compare_table, load_summary
from sandbox.loadtest.reconcile import merge_accounting, reconcile
from sandbox.loadtest.summary import percentile, threshold_failures


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60s", 60), ("2m", 120), ("1m30s", 90), ("90", 90), ("1h", 3600), ("0.5s", 0.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "10x", "-5s", "0s", "1m-3s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError, match="bad duration"):
        parse_duration(text)


def test_cli_rejects_unknown_profile_and_lists_them(capsys: pytest.CaptureFixture) -> None:
    assert main(["warp-speed", "--duration", "5s"]) == 2
    err = capsys.readouterr().err
    assert "unknown profile 'warp-speed'" in err
    for name in ("paid-flow", "challenge", "verify", "settle"):
        assert name in err


def test_cli_rejects_bad_duration_and_shape(capsys: pytest.CaptureFixture) -> None:
    assert main(["paid-flow", "--duration", "soon"]) == 2
    assert "bad duration 'soon'" in capsys.readouterr().err
    assert main(["paid-flow", "--shape", "zigzag"]) == 2
    assert "unknown shape 'zigzag'" in capsys.readouterr().err
    assert main(["paid-flow", "--shape", "rate"]) == 2
    assert "--rate" in capsys.readouterr().err


def test_cli_without_a_stack_says_how_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["paid-flow", "--home", str(tmp_path), "--duration", "5s"]) == 3
    err = capsys.readouterr().err
    assert "no sandbox stack is running" in err
    assert "x402-sandbox up" in err


def test_cli_with_a_dead_target(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from sandbox.processes import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert main(["challenge", "--home", str(tmp_path), "--server", url]) == 3
    assert f"the server at {url} does not answer" in capsys.readouterr().err


def test_percentiles_from_a_histogram() -> None:
    histogram = {"1": 50, "2": 40, "10": 9, "300": 1}
    assert percentile(histogram, 100, 0.5) == 1
    assert percentile(histogram, 100, 0.9) == 2
    assert percentile(histogram, 100, 0.99) == 10
    assert percentile(histogram, 100, 1.0) == 300
    assert percentile({}, 0, 0.5) == 0


def test_thresholds() -> None:
    main_entry = {"count": 100, "failures": 2, "p99": 250.0}
    assert threshold_failures(main_entry, "round trip", None, None) == []
    crossed = threshold_failures(main_entry, "round trip", 200, 0.01)
    assert any("p99 250 ms > --fail-p99 200" in c for c in crossed)
    assert any("error rate 0.0200 > --fail-error-rate 0.01" in c for c in crossed)
    assert threshold_failures({"count": 0, "failures": 0, "p99": 0}, "settle", None, None)


def _snap(merchant: int, payers: dict[str, int], transactions: int) -> Snapshot:
    return Snapshot(merchant=merchant, payers=dict(payers), transactions=transactions)


def _merged(paid: dict[str, list[int]], signatures: list[str]) -> dict:
    return {"paid": paid, "signatures": signatures, "unconfirmed": 0}


def test_reconciliation_holds_when_everything_agrees() -> None:
    before = _snap(0, {"A": 100, "B": 100}, 10)
    after = _snap(30, {"A": 80, "B": 90}, 13)
    result = reconcile(
        True, before, after, _merged({"A": [2, 20], "B": [1, 10]}, ["s1", "s2", "s3"])
    )
    assert result.ok, result.problems
    assert result.figures["payments"] == 3 and result.figures["chainTransactions"] == 3


def test_reconciliation_catches_a_payment_taken_twice() -> None:
    before = _snap(0, {"A": 100}, 10)
    after = _snap(30, {"A": 70}, 13)  # three transfers, two paid answers
    result = reconcile(True, before, after, _merged({"A": [2, 20]}, ["s1", "s1"]))
    text = " ".join(result.problems)
    assert not result.ok
    assert "more than the 2 paid responses" in text
    assert "payer A spent 30" in text
    assert "reported for more than one payment" in text
    assert "executed 3 transactions" in text


def test_reconciliation_catches_a_lost_payment() -> None:
    before = _snap(0, {"A": 100}, 10)
    after = _snap(10, {"A": 90}, 11)  # one transfer, two paid answers
    result = reconcile(True, before, after, _merged({"A": [2, 20]}, ["s1", "s2"]))
    assert not result.ok
    assert any("less than the 2 paid responses" in p for p in result.problems)


def test_reconciliation_of_a_profile_that_must_move_no_money() -> None:
    before = _snap(0, {"A": 100}, 10)
    assert reconcile(False, before, _snap(0, {"A": 100}, 10), _merged({}, [])).ok
    moved = reconcile(False, before, _snap(5, {"A": 95}, 11), _merged({}, []))
    assert not moved.ok and "moves no money moved some" in moved.problems[0]


def test_accounting_files_of_all_processes_add_up(tmp_path: Path) -> None:
    for pid, paid in ((1, {"A": [2, 20]}), (2, {"A": [1, 10], "B": [1, 10]})):
        (tmp_path / f"process-{pid}.json").write_text(
            json.dumps({"paid": paid, "signatures": [f"s{pid}"], "signed": 5, "signSeconds": 0.5})
        )
    merged = merge_accounting(tmp_path)
    assert merged["processes"] == 2
    assert merged["paid"] == {"A": [3, 30], "B": [1, 10]}
    assert merged["signed"] == 10 and merged["signatures"] == ["s1", "s2"]


def test_compare_shows_the_change_per_phase(tmp_path: Path) -> None:
    def summary(p50: float, rps: float) -> dict:
        phase = {"count": 100, "failures": 0, "p50": p50, "p90": p50, "p99": p50, "rps": rps}
        return {"profile": "paid-flow", "phases": {"round trip": phase}, "generator": {}}

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "summary.json").write_text(json.dumps(summary(100, 50)))
    (tmp_path / "b.json").write_text(json.dumps(summary(150, 40)))
    a, b = load_summary(tmp_path / "a"), load_summary(tmp_path / "b.json")
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(compare_table(a, b, "a", "b"))
    text = console.export_text()
    assert "+50.0%" in text and "-20.0%" in text
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "nope")]) == 2


def test_shapes() -> None:
    assert [step_users(t, 8, 4, 40) for t in (0, 9.9, 10, 25, 39)] == [2, 2, 4, 6, 8]
    assert [spike_users(t, 10, 50) for t in (0, 19, 20, 29, 30)] == [2, 2, 10, 10, 2]


def test_targets_from_env_and_stack(tmp_path: Path) -> None:
    stack = {
        "server_url": "http://127.0.0.1:1/",
        "facilitator_url": "http://127.0.0.1:2",
        "rpc_url": "http://127.0.0.1:3",
        "usdc_mint": "Mint1111",
        "wallets": [{"name": "merchant", "address": "Merch"}],
    }
    (tmp_path / "stack.json").write_text(json.dumps(stack))
    targets = Targets.from_env({"X402_SANDBOX_HOME": str(tmp_path), "X402_LOADTEST_RATE": "50"})
    assert targets.server_url == "http://127.0.0.1:1"
    assert targets.keys_dir == tmp_path / "keys"
    assert targets.pay_to == "Merch" and targets.asset == "Mint1111" and targets.rate == 50
    override = Targets.from_env({"X402_SANDBOX_HOME": str(tmp_path),
                                 "X402_SANDBOX_SERVER_URL": "http://10.0.0.1:9"})  # fmt: skip
    assert override.server_url == "http://10.0.0.1:9"
    with pytest.raises(TargetError, match="X402_LOADTEST_RATE='x' is not a number"):
        Targets.from_env({"X402_LOADTEST_RATE": "x"})
    with pytest.raises(TargetError, match="X402_SANDBOX_FACILITATOR_URL"):
        Targets.from_env({}).require("facilitator_url")
