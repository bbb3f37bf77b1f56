"""Each injected fault does what it says, is scoped to its endpoint and counted in /metrics."""

from __future__ import annotations

import time

import httpx
import pytest
from facilitator_stack import start_facilitator

from sandbox.facilitator.faults import Fault, FaultError, Faults, parse_fault_flag
from sandbox.protocol import reasons

AMOUNT = 10_000


def injected(fac, endpoint: str, kind: str) -> float:
    return fac.metric("facilitator_faults_injected_total", endpoint=endpoint, kind=kind)


def test_latency_fixed_is_added_to_its_endpoint_only(fac, funded):
    fac.set_faults({"endpoint": "verify", "kind": "latency", "ms": 300})
    payment = funded.payment(AMOUNT)
    started = time.perf_counter()
    assert fac.verify(payment)["isValid"] is True
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    fac.get("/supported")
    assert time.perf_counter() - started < 0.3
    assert injected(fac, "verify", "latency") >= 1


def test_latency_distributed():
    fault = Fault("verify", "latency", ms=100, distribution="exponential")
    samples = [fault.delay() for _ in range(2000)]
    assert 0.08 < sum(samples) / len(samples) < 0.12
    assert max(samples) > 0.2  # a tail, unlike a fixed delay
    uniform = Fault("verify", "latency", ms=100, jitter_ms=50, distribution="uniform")
    values = [uniform.delay() for _ in range(500)]
    assert min(values) >= 0.05 and max(values) <= 0.15 and max(values) - min(values) > 0.05


def test_error500_share(fac, funded):
    fac.set_faults({"endpoint": "verify", "kind": "error500", "rate": 0.5})
    payment = funded.payment(AMOUNT)
    statuses = [fac.post("/verify", payment).status_code for _ in range(60)]
    assert set(statuses) == {200, 500}
    assert 10 < statuses.count(500) < 50
    assert injected(fac, "verify", "error500") == statuses.count(500)


def test_html_502(fac, funded):
    fac.set_faults({"endpoint": "settle", "kind": "html502"})
    before = injected(fac, "settle", "html502")
    answer = fac.post("/settle", funded.payment(AMOUNT))
    assert answer.status_code == 502
    assert answer.headers["content-type"].startswith("text/html")
    assert funded.usdc(funded.p.pay_to) == 0
    assert injected(fac, "settle", "html502") == before + 1


def test_hang_until_the_caller_gives_up(fac, funded):
    fac.set_faults({"endpoint": "verify", "kind": "hang"})
    before = injected(fac, "verify", "hang")
    started = time.perf_counter()
    with pytest.raises(httpx.ReadTimeout):
        fac.post("/verify", funded.payment(AMOUNT), timeout=0.5)
    assert time.perf_counter() - started < 5
    assert fac.get("/supported").status_code == 200  # other endpoints unaffected
    assert injected(fac, "verify", "hang") == before + 1
    assert injected(fac, "supported", "hang") == 0


def test_invalid(fac, funded):
    fac.set_faults(
        {"endpoint": "verify", "kind": "invalid", "reason": "transaction_simulation_failed"}
    )
    before = injected(fac, "verify", "invalid")
    verdict = fac.verify(funded.payment(AMOUNT))
    assert verdict["isValid"] is False
    assert verdict["invalidReason"] == reasons.TRANSACTION_SIMULATION_FAILED
    assert injected(fac, "verify", "invalid") == before + 1


def test_fake_success_settles_nothing(fac, funded):
    fac.set_faults({"endpoint": "settle", "kind": "fake_success"})
    before = injected(fac, "settle", "fake_success")
    receipt = fac.settle(funded.payment(AMOUNT))
    assert receipt["success"] is True
    assert funded.transaction(receipt["transaction"]) is None
    assert funded.usdc(funded.p.pay_to) == 0
    assert injected(fac, "settle", "fake_success") == before + 1


def test_pending_sends_but_answers_pending(fac, funded):
    fac.set_faults({"endpoint": "settle", "kind": "pending"})
    before = injected(fac, "settle", "pending")
    receipt = fac.settle(funded.payment(AMOUNT))
    assert receipt["errorReason"] == reasons.SETTLEMENT_PENDING
    assert receipt["transaction"]
    assert injected(fac, "settle", "pending") == before + 1


def test_fault_api_rejects_nonsense(fac):
    for bad in (
        {"faults": [{"endpoint": "verify", "kind": "explode"}]},
        {"faults": [{"endpoint": "nowhere", "kind": "hang"}]},
        {"faults": [{"endpoint": "verify", "kind": "pending"}]},
        {"faults": [{"endpoint": "verify", "kind": "error500", "rate": 2}]},
        {"faults": "all"},
    ):
        answer = fac.post("/_sandbox/faults", bad)
        assert answer.status_code == 400, bad
        assert answer.json()["error"]
    assert fac.get("/_sandbox/faults").json() == {"faults": []}


def test_fault_flags_and_admin_token(chain0, fee_payer_party):
    keys = [fee_payer_party.p.fee_payer]
    args = ("--fault", "supported:error500", "--admin-token", "s3cret", "--require-admin-token")
    with start_facilitator(chain0, keys, *args) as running:
        assert running.get("/supported").status_code == 500
        assert running.get("/_sandbox/faults").status_code == 401
        headers = {"Authorization": "Bearer s3cret"}
        current = running.get("/_sandbox/faults", headers=headers).json()
        assert current["faults"][0]["kind"] == "error500"
        assert running.post("/_sandbox/faults", {"faults": []}, headers=headers).status_code == 200
        assert running.get("/supported").status_code == 200
        assert running.get("/_sandbox/settlements", headers={"X-Admin-Token": "s3cret"}).is_success


def test_fault_flag_parsing():
    fault = parse_fault_flag("verify:latency:ms=200:distribution=exponential:rate=0.5")
    assert (fault.endpoint, fault.kind, fault.ms, fault.rate) == ("verify", "latency", 200, 0.5)
    assert fault.distribution == "exponential"
    for bad in ("verify", "verify:latency:ms", "verify:latency:ms=abc", "health:pending"):
        with pytest.raises(FaultError):
            parse_fault_flag(bad)
    faults = Faults([Fault("*", "error500")])
    assert faults.plan("verify").fault.kind == "error500"
    assert Faults().plan("verify") is None
    assert Faults([Fault("settle", "error500", rate=0.0)]).plan("settle") is None
