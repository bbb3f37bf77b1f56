"""check-client as a user runs it: the sandbox's own payer passes every case; a client built
to break a case fails it, with the evidence naming what it did; exit 2 when nothing can run.

Each run is the real CLI in a subprocess; a real chain executes every payment.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from sandbox.check_client.cases import CASES, PRICE
from sandbox.orchestration.stack import StackConfig, StackInfo, start_stack, stop_stack
from sandbox.processes import free_port, free_port_pair

pytestmark = pytest.mark.slow

MAINNET = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
WRONG_CLIENT = Path(__file__).with_name("wrong_client.py")
SANDBOX_PAYER = [
    sys.executable, "-m", "sandbox.payer", "{url}", "--keypair", "{keypair}", "--rpc-url", "{rpc}",
]  # fmt: skip


def check_client(*args: str | Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "check-client", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackInfo]:
    """One stack the wrong clients share (--use-running), as `make up`'s would be."""
    home = tmp_path_factory.mktemp("check-client-stack")
    config = StackConfig(
        home=home,
        rpc_port=free_port_pair(),
        facilitator_port=free_port(),
        server_port=free_port(),
        slot_ms=0,
        payers=1,
    )
    info = start_stack(config)
    try:
        yield info
    finally:
        stop_stack(home)


def test_the_sandbox_payer_passes_every_case_on_its_own_stack(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = check_client("--json", report, "--", *SANDBOX_PAYER)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(report.read_text())
    verdicts = {c["case"]: c for c in data["cases"]}
    assert set(verdicts) == set(CASES)
    assert all(c["passed"] for c in data["cases"]), result.stdout
    happy = verdicts["happy-path-v2"]["evidence"]
    assert len(happy["landed"]) == 1 and happy["usdcChange"] == -PRICE
    assert happy["landed"][0] in verdicts["happy-path-v2"]["message"]
    paid = [r for r in happy["requests"] if r["payment_header"]]
    assert paid[0]["payment"]["accepted"]["extra"]["memo"] == paid[0]["transaction"]["memos"][0]
    mainnet = verdicts["mainnet-only"]["evidence"]
    assert mainnet["landed"] == [] and mainnet["usdcChange"] == 0
    assert mainnet["requests"][0]["offers"][0]["network"] == MAINNET
    pending = verdicts["pending-no-double-pay"]["evidence"]
    assert len(pending["landed"]) == 1
    assert any(
        (r["receipt"] or {}).get("errorReason") == "settlement_pending" for r in pending["requests"]
    )
    assert "PASS" in result.stdout and f"all {len(CASES)} case(s) passed" in result.stdout
    assert verdicts["v1-only"]["evidence"]["requests"][-1]["payment_header"] == "X-PAYMENT"
    assert "paid offer 1 of 2" in verdicts["two-offers"]["message"]  # the cheaper one
    slow = verdicts["slow-paid-answer"]["evidence"]
    assert len(slow["landed"]) == 1 and slow["requests"][-1]["status"] == 200
    # The stale hint: the payer's first payment is refused, the second signed with a live one.
    stale = verdicts["stale-blockhash-hint"]
    hint = stale["evidence"]["offer"]["blockhash_hint"]
    first, second = _sent(stale)
    assert first["blockhash"] == hint and second["blockhash"] != hint
    assert stale["message"].startswith("after 1 refused on the hint, paid once")
    (refusal,) = [r for r in stale["evidence"]["facilitator"] if r["operation"] == "verify"]
    assert refusal["reason"] == "transaction_simulation_failed"
    assert "BlockhashNotFound" in refusal["message"]


def _wrong(stack: StackInfo, case: str, kind: str, tmp_path: Path) -> tuple[dict, str]:
    report, page = tmp_path / f"{kind}.json", tmp_path / f"{kind}.html"
    result = check_client(
        case, "--use-running", "--home", stack.home, "--json", report, "--html", page,
        "--", sys.executable, WRONG_CLIENT, "--break", kind,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout and f"1 MUST case(s) failed: {case}" in result.stdout
    (verdict,) = json.loads(report.read_text())["cases"]
    assert verdict["case"] == case and not verdict["passed"]
    html = page.read_text()
    assert f'<h2 id="{case}">{case} <span class="FAIL">FAIL</span></h2>' in html
    for signature in verdict["evidence"]["landed"]:
        assert signature in html
    return verdict, result.stdout


def _sent(verdict: dict) -> list[dict]:
    return [r["transaction"] for r in verdict["evidence"]["requests"] if r["payment_header"]]


def test_a_client_that_drops_the_memo_fails_memo_copied(stack, tmp_path) -> None:
    verdict, out = _wrong(stack, "memo-copied", "memo", tmp_path)
    (sent,) = _sent(verdict)
    assert sent["memos"] == []
    assert f"transaction {sent['signature']} carries 0 Memo instructions" in verdict["message"]
    paid = [r for r in verdict["evidence"]["requests"] if r["payment_header"]]
    assert paid[0]["error"] == "invalid_exact_svm_payload_memo_count"  # the server's refusal
    assert "run again with --route-binding none" in " ".join(out.split())


def test_route_binding_none_judges_a_memo_less_client_on_the_other_cases(stack, tmp_path) -> None:
    """Offers without extra.memo (but in memo-copied): the memo-less client pays there."""
    report = tmp_path / "none.json"
    result = check_client(
        "memo-copied", "happy-path-v2", "--route-binding", "none", "--use-running", "--home",
        stack.home, "--json", report, "--", sys.executable, WRONG_CLIENT, "--break", "memo",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    verdicts = {c["case"]: c for c in json.loads(report.read_text())["cases"]}
    happy = verdicts["happy-path-v2"]
    assert happy["passed"] and len(happy["evidence"]["landed"]) == 1
    assert "memo" not in happy["evidence"]["requests"][0]["offers"][0]["extra"]
    memo = verdicts["memo-copied"]
    assert not memo["passed"] and "memo" in memo["evidence"]["requests"][0]["offers"][0]["extra"]
    assert "--route-binding none" not in " ".join(result.stdout.split())  # no hint: it is on


def test_a_client_that_underpays_fails_exact_terms(stack, tmp_path) -> None:
    verdict, _out = _wrong(stack, "exact-terms", "amount", tmp_path)
    (sent,) = _sent(verdict)
    assert sent["transfers"][0]["amount"] == PRICE - 1
    assert f"amount {PRICE - 1} (offered {PRICE})" in verdict["message"]
    assert verdict["evidence"]["usdcChange"] == 0  # refused by the facilitator, not charged


def test_a_client_that_pays_a_mainnet_offer_fails_mainnet_only(stack, tmp_path) -> None:
    verdict, out = _wrong(stack, "mainnet-only", "mainnet", tmp_path)
    evidence = verdict["evidence"]
    (landed,) = evidence["landed"]
    assert evidence["usdcChange"] == -PRICE
    assert landed in verdict["message"] and landed in out
    offered = evidence["requests"][0]["offers"][0]
    assert offered["network"] == MAINNET


def test_a_client_that_pays_its_own_fee_fails_fee_payer(stack, tmp_path) -> None:
    verdict, _out = _wrong(stack, "fee-payer", "fee", tmp_path)
    (sent,) = _sent(verdict)
    assert sent["fee_payer"] == verdict["evidence"]["payer"]
    assert f"fee payer is {sent['fee_payer']}, not the offer's extra.feePayer" in verdict["message"]


def test_a_client_that_pays_again_after_pending_fails_the_pending_case(stack, tmp_path) -> None:
    verdict, out = _wrong(stack, "pending-no-double-pay", "repay", tmp_path)
    landed = verdict["evidence"]["landed"]
    assert len(landed) == 2
    assert all(signature in verdict["message"] and signature in out for signature in landed)
    assert verdict["evidence"]["usdcChange"] == -2 * PRICE


def test_a_client_that_pays_again_after_a_502_fails_and_junit_says_so(stack, tmp_path) -> None:
    junit = tmp_path / "report.xml"
    report = tmp_path / "report.json"
    result = check_client(
        "bad-gateway-after-pay", "--use-running", "--home", stack.home, "--json", report,
        "--junit", junit, "--", sys.executable, WRONG_CLIENT, "--break", "repay",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    (verdict,) = json.loads(report.read_text())["cases"]
    landed = verdict["evidence"]["landed"]
    assert len(landed) == 2 and all(signature in verdict["message"] for signature in landed)
    suite = ElementTree.parse(junit).getroot()
    assert suite.get("tests") == "1" and suite.get("failures") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None and landed[0] in failure.get("message", "")
    assert "-> 502 (paid with PAYMENT-SIGNATURE" in (failure.text or "")


def test_a_retry_with_a_new_payment_id_fails_and_a_resend_passes(stack, tmp_path) -> None:
    verdict, _out = _wrong(stack, "payment-id-retry", "repay", tmp_path)
    ids = [
        r["payment"]["extensions"]["payment-identifier"]["info"]["id"]
        for r in verdict["evidence"]["requests"]
        if r["payment_header"]
    ]
    assert len(set(ids)) == 2 and all(i in verdict["message"] for i in ids)
    assert len(verdict["evidence"]["landed"]) == 2
    report = tmp_path / "resend.json"
    result = check_client(
        "payment-id-retry", "--use-running", "--home", stack.home, "--json", report,
        "--", sys.executable, WRONG_CLIENT, "--break", "resend",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (verdict,) = json.loads(report.read_text())["cases"]
    statuses = [r["status"] for r in verdict["evidence"]["requests"] if r["payment_header"]]
    assert statuses == [502, 200] and len(verdict["evidence"]["landed"]) == 1
    assert "retried 1 time(s) with the same id" in verdict["message"]


def test_a_client_that_trusts_an_expired_hint_is_warned_with_the_facilitators_reason(
    stack, tmp_path
) -> None:
    report = tmp_path / "trust-hint.json"
    result = check_client(
        "stale-blockhash-hint", "--use-running", "--home", stack.home, "--json", report,
        "--", sys.executable, WRONG_CLIENT, "--break", "trust-hint",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr  # a SHOULD: a warning
    assert "WARN" in result.stdout and "1 warning(s): stale-blockhash-hint" in result.stdout
    (verdict,) = json.loads(report.read_text())["cases"]
    hint = verdict["evidence"]["offer"]["blockhash_hint"]
    (sent,) = _sent(verdict)
    assert sent["blockhash"] == hint and verdict["evidence"]["landed"] == []
    assert f"signed 1 transaction(s) with the expired hint {hint}" in verdict["message"]
    assert "the facilitator refused 1: transaction_simulation_failed" in verdict["message"]
    assert verdict["evidence"]["usdcChange"] == 0


def test_two_offers_paying_both_fails_and_paying_the_second_passes(stack, tmp_path) -> None:
    verdict, _out = _wrong(stack, "two-offers", "every-offer", tmp_path)
    landed = verdict["evidence"]["landed"]
    assert len(landed) == 2 and all(signature in verdict["message"] for signature in landed)
    assert len(verdict["evidence"]["requests"][0]["offers"]) == 2
    report = tmp_path / "offer2.json"
    result = check_client(
        "two-offers", "--use-running", "--home", stack.home, "--json", report,
        "--", sys.executable, WRONG_CLIENT, "--break", "offer2",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (verdict,) = json.loads(report.read_text())["cases"]
    assert f"paid offer 2 of 2 ({2 * PRICE} atomic units) once" in verdict["message"]
    assert verdict["evidence"]["usdcChange"] == -2 * PRICE


def test_a_client_of_v2_only_fails_v1_only(stack, tmp_path) -> None:
    verdict, _out = _wrong(stack, "v1-only", "v2only", tmp_path)
    assert verdict["evidence"]["landed"] == [] and "no payment landed" in verdict["message"]
    assert all(not r["offers"] for r in verdict["evidence"]["requests"])  # no v2 challenge


def test_a_client_without_a_payment_id_fails_payment_id_required(stack, tmp_path) -> None:
    verdict, _out = _wrong(stack, "payment-id-required", "no-id", tmp_path)
    (paid,) = [r for r in verdict["evidence"]["requests"] if r["payment_header"]]
    assert "extensions" not in paid["payment"] or not paid["payment"]["extensions"]
    assert paid["status"] == 400 and "carries no payment-identifier id" in verdict["message"]


def test_an_impatient_client_fails_slow_paid_answer(stack, tmp_path) -> None:
    verdict, _out = _wrong(stack, "slow-paid-answer", "impatient", tmp_path)
    landed = verdict["evidence"]["landed"]
    assert len(landed) == 2 and all(signature in verdict["message"] for signature in landed)


def test_a_client_without_a_price_cap_is_warned_not_failed(stack, tmp_path) -> None:
    report = tmp_path / "price.json"
    result = check_client(
        "price-ceiling", "--use-running", "--home", stack.home, "--json", report,
        "--", sys.executable, WRONG_CLIENT, "--break", "any-price",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr  # a SHOULD is a warning
    (verdict,) = json.loads(report.read_text())["cases"]
    assert verdict["level"] == "SHOULD" and not verdict["passed"]
    assert "WARN" in result.stdout and "1 warning(s): price-ceiling" in result.stdout
    assert verdict["evidence"]["usdcChange"] == -CASES["price-ceiling"].price


def test_a_command_that_cannot_start_exits_2(tmp_path) -> None:
    result = check_client("--", str(tmp_path / "no-such-client"))
    assert result.returncode == 2
    assert "cannot be started" in result.stderr and "no-such-client" in result.stderr
    result = check_client("happy-path-v2")
    assert result.returncode == 2 and "no client command" in result.stderr


def test_use_running_without_a_stack_exits_2(tmp_path) -> None:
    result = check_client("--use-running", "--home", tmp_path, "--", sys.executable, "-V")
    assert result.returncode == 2
    assert "--use-running" in result.stderr and "make up" in result.stderr


def test_an_unknown_case_is_named(tmp_path) -> None:
    result = check_client("no-such-case", "--", sys.executable, "-V")
    assert result.returncode == 2 and "no-such-case" in result.stderr
    assert "happy-path-v2" in result.stderr


def test_a_client_that_hangs_is_killed_and_judged(stack, tmp_path) -> None:
    report = tmp_path / "hang.json"
    result = check_client(
        "happy-path-v2", "--use-running", "--home", stack.home, "--timeout", "1",
        "--json", report, "--", sys.executable, "-c", "import time; time.sleep(60)",
    )  # fmt: skip
    assert result.returncode == 1
    (verdict,) = json.loads(report.read_text())["cases"]
    assert verdict["evidence"]["timed_out"] and "killed after" in verdict["message"]
