"""Running the facilitator: several fee payers, health warnings, metrics, a dead chain, the CLI."""

from __future__ import annotations

import pytest
from facilitator_builders import Parties
from facilitator_stack import Funded, start_facilitator
from solders.keypair import Keypair

from sandbox.chain.testing import start_chain
from sandbox.facilitator.cli import main as cli_main
from sandbox.protocol import reasons


def test_several_fee_payers_and_a_low_balance_warning(chain0, fee_payer_party):
    second, unfunded = Keypair(), Keypair()
    chain0.rpc("requestAirdrop", str(second.pubkey()), 1_000_000_000)
    keys = [fee_payer_party.p.fee_payer, second, unfunded]
    with start_facilitator(chain0, keys) as fac:
        signers = fac.get("/supported").json()["signers"]["solana:*"]
        assert signers == [str(k.pubkey()) for k in keys]
        health = fac.get("/health").json()
        assert health["status"] == "degraded"
        low = {p["address"]: p["low"] for p in health["feePayers"]}
        assert low == {str(keys[0].pubkey()): False, str(second.pubkey()): False,
                       str(unfunded.pubkey()): True}  # fmt: skip
        assert any(str(unfunded.pubkey()) in w for w in health["warnings"])
        # A payment naming the second key settles, paid by that key.
        funded = Funded(chain0, Parties(fee_payer=second))
        before = funded.sol(second.pubkey())
        receipt = fac.settle(funded.payment(10_000))
        assert receipt["success"] is True
        assert funded.sol(second.pubkey()) < before
        assert funded.usdc(funded.p.pay_to) == 10_000


def test_metrics_count_outcomes_latencies_and_chain_calls(fac, funded):
    fac.verify(funded.payment(10_000))
    bad = funded.payment(10_000)
    bad["paymentRequirements"]["amount"] = bad["paymentPayload"]["accepted"]["amount"] = "1"
    fac.verify(bad)
    fac.settle(funded.payment(10_000))
    assert fac.metric("facilitator_outcomes_total", operation="verify", outcome="valid") >= 1
    assert fac.metric(
        "facilitator_outcomes_total",
        operation="verify",
        outcome=reasons.SVM_AMOUNT_MISMATCH,
    ) >= 1  # fmt: skip
    assert fac.metric("facilitator_outcomes_total", operation="settle", outcome="success") >= 1
    assert fac.metric("facilitator_verify_seconds_count") >= 2
    assert fac.metric("facilitator_settle_seconds_count") >= 1
    for method in ("simulateTransaction", "sendTransaction", "getSignatureStatuses"):
        assert fac.metric("facilitator_chain_call_seconds_count", method=method) >= 1, method
    assert fac.metric("facilitator_requests_total", route="/verify", status="200") >= 2
    settlements = fac.get("/_sandbox/settlements?limit=1").json()["settlements"]
    assert len(settlements) == 1 and settlements[0]["success"] is True
    assert settlements[0]["payer"] == str(funded.p.client.pubkey())
    rejections = fac.get("/_sandbox/rejections").json()["rejections"]
    assert rejections[-1]["reason"] == reasons.SVM_AMOUNT_MISMATCH


@pytest.mark.timeout(120)
def test_a_dead_chain_is_a_502_in_the_protocol_shape_not_a_traceback():
    with start_chain(slot_ms=0) as chain:
        funded = Funded(chain)
        payment = funded.payment(10_000)
        with start_facilitator(chain, [funded.p.fee_payer], "--rpc-timeout", "2") as fac:
            chain.stop()
            answer = fac.post("/verify", payment)
            assert answer.status_code == 502
            assert answer.json()["invalidReason"] == reasons.UNEXPECTED_VERIFY_ERROR
            assert "chain" in answer.json()["invalidMessage"]
            answer = fac.post("/settle", payment)
            assert answer.status_code == 502
            assert answer.json()["errorReason"] == reasons.UNEXPECTED_SETTLE_ERROR
            assert fac.get("/health").json()["chain"]["reachable"] is False


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        ([], "--fee-payer-keypair"),
        (["--fee-payer-keypair", "/nonexistent.json"], "cannot read"),
        (["--fee-payer-keypair", __file__], "not JSON"),
        (["--fee-payer-keypair", "KEY", "--fault", "verify:explode"], "unknown fault kind"),
    ],
)
def test_cli_rejects_bad_flags_with_a_message(tmp_path, capsys, argv, needle):
    key = tmp_path / "key.json"
    key.write_text(str(list(bytes(Keypair()))))
    argv = [str(key) if a == "KEY" else a for a in argv]
    assert cli_main(argv) == 2
    assert needle in capsys.readouterr().err
